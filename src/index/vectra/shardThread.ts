import { Worker } from 'node:worker_threads';
import { type ChunkRecord, type SentenceRecord, type SourceItems, TURN_MS, turnsOf } from '../store.ts';
import { restartingThread, ThreadRequests } from '../threadRequests.ts';
import { concatenated } from '../vectorMath.ts';
import { syncTree } from './generations.ts';
import { writeShard } from './shards.ts';

/**
 * A source's items with all its vectors copied into one buffer, which is handed over rather than
 * copied again. Sent as they are, vectors that are views into a whole embedding batch's buffer
 * would each take that whole buffer along.
 */
interface PackedItems {
  readonly sourceId: string;
  readonly chunks: readonly ChunkRecord[];
  readonly sentences: readonly SentenceRecord[];
  readonly termCounts: Readonly<Record<string, number>>;
  /** Chunk vectors, sentence vectors, context vectors, then word pieces, end to end. */
  readonly values: Float32Array<ArrayBuffer>;
  /** Each of those arrays' length, in that order; -1 for a sentence without word pieces. */
  readonly lengths: Int32Array<ArrayBuffer>;
}

export interface ShardRequest {
  readonly id: number;
  readonly folder: string;
  readonly items: PackedItems;
}
export type ShardReply = { readonly id: number } | { readonly id: number; readonly failed: string; readonly code: string | undefined };

/** Writes a shard and flushes it, so a generation that lists it never points at files still in the page cache. */
export async function writeShardDurably(folder: string, items: SourceItems): Promise<void> {
  await writeShard(folder, items);
  await syncTree(folder);
}

export async function packItems(items: SourceItems): Promise<PackedItems> {
  const arrays = [
    ...items.chunks.map((c) => c.vector),
    ...items.sentences.map((s) => s.vector),
    ...items.sentences.map((s) => s.context),
    ...items.sentences.map((s) => s.tokens),
  ];
  const lengths = Int32Array.from(arrays, (array) => array?.length ?? -1);
  // A long article's word pieces are tens of megabytes: copied in one piece, they held the
  // answering thread for up to 80 ms in a re-index of the eval articles (a CPU profile of the build).
  const values = await concatenated(arrays, turnsOf(TURN_MS));
  return {
    sourceId: items.sourceId,
    chunks: items.chunks.map((c) => c.record),
    sentences: items.sentences.map((s) => s.record),
    termCounts: items.termCounts,
    values,
    lengths,
  };
}

export function unpackItems(packed: PackedItems): SourceItems {
  let at = 0;
  let next = 0;
  const take = (): Float32Array | undefined => {
    const length = packed.lengths[next++]!;
    if (length < 0) return undefined;
    return packed.values.subarray(at, (at += length));
  };
  const chunks = packed.chunks.map((record) => ({ record, vector: take()! }));
  const vectors = packed.sentences.map(() => take()!);
  const contexts = packed.sentences.map(() => take()!);
  const sentences = packed.sentences.map((record, i) => ({ record, vector: vectors[i]!, context: contexts[i]!, tokens: take() }));
  return { sourceId: packed.sourceId, chunks, sentences, termCounts: packed.termCounts };
}

/**
 * Writes shards on a thread of its own, so the thread that answers questions stays free during a
 * re-index: turning vectors into Vectra's JSON items and writing them kept it busy 87% of a write
 * of 100,000 sentences, against 22% with only the items' copy made there (the store bench's busy
 * share). One shard at a time, in the order asked; the thread keeps the process alive only while
 * a write waits.
 */
export class ShardThread {
  // A plain-JavaScript entry registers tsx in the new thread before loading the TypeScript worker.
  private readonly thread = restartingThread(
    () => new ThreadRequests<ShardReply>(new Worker(new URL('./shardWorker.mjs', import.meta.url)), 'The shard-writing thread'),
  );

  async write(folder: string, items: SourceItems): Promise<void> {
    const packed = await packItems(items);
    const reply = await this.thread
      .requests()
      .ask((id) => ({ id, folder, items: packed }) satisfies ShardRequest, [packed.values.buffer, packed.lengths.buffer]);
    if ('failed' in reply) throw Object.assign(new Error(reply.failed), { code: reply.code });
  }

  /** Ends the thread; writes still waiting fail. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
