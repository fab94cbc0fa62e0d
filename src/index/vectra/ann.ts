import { fork } from 'node:child_process';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type MessagePort, Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { z } from 'zod';
import { readPreparedShard } from './shards.ts';
import { ThreadRequests } from '../threadRequests.ts';

/**
 * The first stage of a large Vectra index: an HNSW graph ([USearch](https://github.com/unum-cloud/usearch))
 * over each sentence's dense vector (alone + in context), which finds the closest few hundred
 * sentences without scoring every one; they are then scored exactly. Written with each large
 * generation: the previous generation's graph less the sources it drops plus the ones written now,
 * so a re-index adds only what changed. Each shard takes a run of consecutive keys, one per
 * sentence: USearch hashes keys, and keys that differ only in their high bits (a shard number
 * shifted up) collide so often that opening a graph of 300,000 took over a minute.
 */
export const ANN_FILE = 'dense.usearch';
const ANN_KEYS_FILE = 'ann-keys.json';
/**
 * Threads USearch adds with: all cores but one, which stays free for the thread that answers
 * (on two cores, adding on both stalled answering by over 100 ms at a million sentences).
 */
const ADD_THREADS = Math.max(1, availableParallelism() - 1);
/** Vectors added per call (on the graph's own thread). */
const ADD_BATCH = 1024;
/** Deleted sentences stay in the graph as tombstones; past this share of it, it is rebuilt. */
const MAX_TOMBSTONES = 0.25;
const CONNECTIVITY = 16;
/**
 * How widely a search looks. USearch's default found a question's own sentence among 400
 * candidates for 85% of questions at 300,000 random sentences; 1,600 found 98%, in about 10 ms
 * (scratch measurement, random vectors: the hardest case for a graph).
 */
const EXPANSION_SEARCH = 1600;

const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;
/**
 * Each shard's entry checked with plain typeof, as shard records are: zod's walk over the 5,882
 * entries of a million-sentence graph held loading for 67 to 112 ms.
 */
const shardKeys = z.custom<Record<string, { first: number; sentences: number }>>((shards) => {
  if (typeof shards !== 'object' || shards === null || Array.isArray(shards)) return false;
  for (const name in shards) {
    const entry = (shards as Record<string, { first?: unknown; sentences?: unknown } | null>)[name];
    if (typeof entry !== 'object' || entry === null || !isCount(entry.first) || !isCount(entry.sentences)) return false;
  }
  return true;
});

/**
 * For each shard in the graph: its first key and how many sentences it added; the next free key;
 * and the graph file's size as saved.
 */
const annKeys = z.object({
  shards: shardKeys,
  next: z.number().int().nonnegative(),
  tombstones: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type AnnKeys = z.infer<typeof annKeys>;

const newIndex = (dimensions: number) =>
  new Index({
    dimensions,
    metric: MetricKind.Cos,
    quantization: ScalarKind.I8,
    connectivity: CONNECTIVITY,
    expansion_add: 0,
    expansion_search: EXPANSION_SEARCH,
    multi: false,
  });

/**
 * The keys of the graph in `folder`, or undefined when it has none that can be used: USearch reads
 * a graph file without checking it and crashes the process on one cut short, so a file whose size
 * is not the size it was saved with is never handed to it.
 */
export async function readAnnKeys(folder: string): Promise<AnnKeys | undefined> {
  const text = await readFile(path.join(folder, ANN_KEYS_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = annKeys.safeParse(json);
  if (!parsed.success) return undefined;
  const bytes = await stat(path.join(folder, ANN_FILE)).then(
    (file) => file.size,
    () => undefined,
  );
  return bytes === parsed.data.bytes ? parsed.data : undefined;
}

/**
 * The shards a graph is written for: their names, and the folder that holds them (each shard's
 * dense vectors are read only when the graph does not hold them yet). Names and one folder, not a
 * path per shard: the task is sent to the graph's process as JSON, and at a million sentences a
 * path per shard made it three times as long to send.
 */
export interface AnnShards {
  readonly dir: string;
  readonly names: readonly string[];
}

/**
 * Loads a copy of the previous generation's graph into `index` and removes the shards this
 * generation drops; returns the keys it then holds. Throws when too much of it would be deleted
 * entries (it is then rebuilt) or it cannot be read.
 */
async function carriedOver(index: Index, before: AnnKeys, previous: string, folder: string, wanted: ReadonlySet<string>): Promise<Omit<AnnKeys, 'bytes'>> {
  const live = Object.values(before.shards).reduce((sum, shard) => sum + shard.sentences, 0);
  const dropped = Object.entries(before.shards).filter(([name]) => !wanted.has(name));
  const tombstones = before.tombstones + dropped.reduce((sum, [, shard]) => sum + shard.sentences, 0);
  if (tombstones > MAX_TOMBSTONES * (live + before.tombstones)) throw new Error('the graph is mostly deleted entries; rebuilding it');
  // A copy is loaded, never the previous generation's file itself, which readers may be viewing.
  await copyFile(path.join(previous, ANN_FILE), path.join(folder, ANN_FILE));
  index.load(path.join(folder, ANN_FILE));
  for (const [, shard] of dropped) {
    const gone = new BigUint64Array(shard.sentences);
    for (let i = 0; i < shard.sentences; i++) gone[i] = BigInt(shard.first + i);
    index.remove(gone);
  }
  return { shards: Object.fromEntries(Object.entries(before.shards).filter(([name]) => wanted.has(name))), next: before.next, tombstones };
}

/**
 * Writes the graph for a generation of `shards` into `folder`, from the previous generation's graph
 * when there is one (dropping the shards it no longer lists), else from scratch. Loading, adding
 * and saving a graph each hold their thread for a while, so the store runs this in a process of
 * its own (`writeAnnInOwnProcess`).
 */
export async function writeAnn(folder: string, dimensions: number, shards: AnnShards, previous: string | undefined): Promise<void> {
  const before = previous ? await readAnnKeys(previous) : undefined;
  let index = newIndex(dimensions);
  let keys: Omit<AnnKeys, 'bytes'> = { shards: {}, next: 0, tombstones: 0 };
  const wanted = new Set(shards.names);
  if (before && previous) {
    try {
      keys = await carriedOver(index, before, previous, folder, wanted);
    } catch {
      // The previous graph is mostly deleted entries, or cannot be copied or read: this one starts afresh.
      index = newIndex(dimensions);
      keys = { shards: {}, next: 0, tombstones: 0 };
    }
  }
  for (const name of shards.names) {
    if (keys.shards[name]) continue;
    const dense = (await readPreparedShard(path.join(shards.dir, name), dimensions, true, false)).denseVectors;
    const first = keys.next;
    keys.next += dense.rows;
    for (let from = 0; from < dense.rows; from += ADD_BATCH) {
      const rows = Math.min(ADD_BATCH, dense.rows - from);
      const batch = new Float32Array(rows * dimensions);
      for (let r = 0; r < rows; r++) {
        const scale = dense.scales[from + r]!;
        for (let d = 0; d < dimensions; d++) batch[r * dimensions + d] = dense.codes[(from + r) * dimensions + d]! * scale;
      }
      const batchKeys = new BigUint64Array(rows);
      for (let r = 0; r < rows; r++) batchKeys[r] = BigInt(first + from + r);
      index.add(batchKeys, batch, ADD_THREADS);
    }
    keys.shards[name] = { first, sentences: dense.rows };
  }
  index.save(path.join(folder, ANN_FILE));
  const { size } = await stat(path.join(folder, ANN_FILE));
  await writeFile(path.join(folder, ANN_KEYS_FILE), JSON.stringify({ ...keys, bytes: size } satisfies AnnKeys));
}

/** What the graph-writing process is sent (annWriter.ts). */
export interface AnnWriteTask {
  readonly folder: string;
  readonly dimensions: number;
  readonly shards: AnnShards;
  readonly previous: string | undefined;
}

/** What the graph thread serves (annWorker.ts). */
export interface AnnServeTask {
  readonly folder: string;
  readonly dimensions: number;
}

/** A question for the serving thread, and its answer: the keys of the closest sentences. */
interface AnnQuery {
  readonly id: number;
  readonly query: Float32Array;
  readonly k: number;
}
type AnnReply = { readonly id: number; readonly keys: Float64Array } | { readonly id: number; readonly failed: string };

// A plain-JavaScript entry registers tsx in the new thread before loading the TypeScript worker.
const graphThread = (task: AnnServeTask) => new Worker(new URL('./annWorker.mjs', import.meta.url), { workerData: task });

/**
 * `writeAnn` in a process of its own, so the thread that answers questions never waits on the
 * graph. Not on a thread: while one wrote the graph of a million sentences, the answering thread,
 * with nothing to do but wait, stalled for 105 to 112 ms in three runs of four, with no garbage
 * collection that long; in a process, the graph's 20 minutes of building stalled it for less than
 * 50 ms. The likeliest cause is what threads share and processes do not: the memory map, which
 * the kernel locks while the graph's hundreds of megabytes are mapped and unmapped.
 */
export function writeAnnInOwnProcess(folder: string, dimensions: number, shards: AnnShards, previous: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // No inherited flags: the entry registers tsx itself, and the caller's flags (a heap limit, say) are not the graph's.
    const child = fork(fileURLToPath(new URL('./annWriter.mjs', import.meta.url)), [], { execArgv: [] });
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (child.connected) child.disconnect();
      if (error) reject(error);
      else resolve();
    };
    child.once('message', (reply: { done: true } | { failed: string }) => settle('failed' in reply ? new Error(reply.failed) : undefined));
    child.once('error', settle);
    child.once('exit', (code, signal) => settle(new Error(`The graph-writing process stopped (${signal ?? `code ${code}`}) before it finished.`)));
    child.send({ folder, dimensions, shards, previous } satisfies AnnWriteTask);
  });
}

/**
 * Runs on the serving thread: opens the graph in `folder` and answers `AnnQuery` messages until
 * the thread is ended. Opening walks every node of the graph (about 100 ms at 300,000 sentences) and a
 * search takes tens of milliseconds at a million, so neither holds up the thread that answers.
 */
export function serveAnn(folder: string, dimensions: number, port: MessagePort): void {
  const index = newIndex(dimensions);
  try {
    index.view(path.join(folder, ANN_FILE));
  } catch (error) {
    port.postMessage({ failed: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on('message', ({ id, query, k }: AnnQuery) => {
    try {
      const keys = Float64Array.from(index.search(query, k, 0).keys, Number);
      port.postMessage({ id, keys } satisfies AnnReply, [keys.buffer]);
    } catch (error) {
      port.postMessage({ id, failed: error instanceof Error ? error.message : String(error) } satisfies AnnReply);
    }
  });
  port.postMessage({ ready: true });
}

/**
 * A generation's graph, opened for questions on a thread of its own (memory-mapped there, so
 * opening reads next to nothing). The thread keeps the process alive only while a search waits.
 */
export class AnnReader {
  /** The shards' first keys, ascending, and the shard each belongs to: a key's shard is found by bisection. */
  private readonly firsts: number[];
  private readonly names: string[];
  private readonly requests: ThreadRequests<AnnReply>;
  private closing = false;

  private constructor(
    thread: Worker,
    private readonly keys: AnnKeys,
  ) {
    const runs = Object.entries(keys.shards).sort((a, b) => a[1].first - b[1].first);
    this.firsts = runs.map(([, shard]) => shard.first);
    this.names = runs.map(([name]) => name);
    this.requests = new ThreadRequests(thread, 'The graph search thread');
  }

  /** The graph in `folder`, or undefined when it has none that can be used. */
  static async open(folder: string, dimensions: number): Promise<AnnReader | undefined> {
    const keys = await readAnnKeys(folder);
    if (keys === undefined) return undefined;
    const thread = graphThread({ folder, dimensions });
    const ready = await new Promise<boolean>((resolve) => {
      thread.once('message', (reply: { ready: true } | { failed: string }) => resolve('ready' in reply));
      thread.once('error', () => resolve(false));
      thread.once('exit', () => resolve(false));
    });
    if (!ready) {
      await thread.terminate();
      return undefined;
    }
    return new AnnReader(thread, keys);
  }

  /** Whether the graph holds this shard's sentences. */
  holds(shard: string): boolean {
    return this.keys.shards[shard] !== undefined;
  }

  /** The `k` sentences closest to `query`, as (shard name, sentence in shard). */
  async nearest(query: Float32Array, k: number): Promise<{ shard: string; sentence: number }[]> {
    if (this.closing) throw new Error('The graph was closed.');
    const reply = await this.requests.ask((id) => ({ id, query, k }) satisfies AnnQuery);
    if ('failed' in reply) throw new Error(`The graph search failed: ${reply.failed}`);
    const { keys } = reply;
    const found: { shard: string; sentence: number }[] = [];
    for (const value of keys) {
      let low = 0;
      let high = this.firsts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (this.firsts[middle]! <= value) low = middle;
        else high = middle - 1;
      }
      const name = this.names[low];
      if (name === undefined || value < this.firsts[low]!) continue;
      const sentence = value - this.firsts[low]!;
      if (sentence < this.keys.shards[name]!.sentences) found.push({ shard: name, sentence });
    }
    return found;
  }

  /** Ends the thread once the searches already asked have their answers. */
  async close(): Promise<void> {
    this.closing = true;
    await this.requests.closeWhenIdle();
  }
}
