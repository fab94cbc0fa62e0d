import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceItems } from '../../src/index/store.ts';
import { packItems, ShardThread, unpackItems } from '../../src/index/vectra/shardThread.ts';
import { readShard } from '../../src/index/vectra/shards.ts';

const DIMENSIONS = 4;

/** Two sentences and a chunk whose vectors are views into one batch-sized buffer, as the embedding thread hands them back. */
function itemsFromOneBatch(): { items: SourceItems; batch: Float32Array } {
  const batch = Float32Array.from({ length: 1000 * DIMENSIONS }, (_, i) => (i % 7) / 7);
  const view = (row: number, rows = 1) => batch.subarray(row * DIMENSIONS, (row + rows) * DIMENSIONS);
  const sentence = (i: number) => ({ sourceId: 'a.md', sentence: i, start: i * 10, end: i * 10 + 9, line: i + 1, text: `Sentence ${i}.`, entities: '' });
  return {
    batch,
    items: {
      sourceId: 'a.md',
      chunks: [
        { record: { sourceId: 'a.md', chunk: 0, start: 0, end: 19, firstSentence: 0, lastSentence: 1, text: 'Sentence 0. Sentence 1.' }, vector: view(0) },
      ],
      sentences: [
        { record: sentence(0), vector: view(1), context: view(2), tokens: view(3, 3) },
        { record: sentence(1), vector: view(6), context: view(7) },
      ],
      termCounts: { sentenc: 2 },
    },
  };
}

describe('the shard-writing thread', () => {
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
  });

  it('sends a source its own numbers only, not the whole batch its vectors are views into, and unpacks them as they were', async () => {
    const { items, batch } = itemsFromOneBatch();
    const packed = await packItems(items);
    expect(packed.values.length).toBe(8 * DIMENSIONS);
    expect(packed.values.length).toBeLessThan(batch.length);
    const unpacked = unpackItems(packed);
    expect(unpacked.chunks[0]!.vector).toEqual(items.chunks[0]!.vector);
    items.sentences.forEach((sentence, i) => {
      const back = unpacked.sentences[i]!;
      expect(back.record).toEqual(sentence.record);
      expect(back.vector).toEqual(sentence.vector);
      expect(back.context).toEqual(sentence.context);
      expect(back.tokens).toEqual(sentence.tokens);
    });
    expect(unpacked.sentences[1]!.tokens).toBeUndefined();
  });

  it('writes shards that read back as sent, and passes a write failure back with its code', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'docent-shard-thread-'));
    folders.push(root);
    const thread = new ShardThread();
    try {
      const { items } = itemsFromOneBatch();
      await thread.write(path.join(root, 'a'), items);
      const shard = await readShard(path.join(root, 'a'), DIMENSIONS);
      expect(shard.sentences.map((s) => s.text)).toEqual(['Sentence 0.', 'Sentence 1.']);
      expect(Array.from(shard.contextVectors.codes.subarray(DIMENSIONS))).toEqual(Array.from(items.sentences[1]!.context));

      // A file where the shard's folder should go: the write fails on the thread and the error keeps its code.
      const failure = await thread.write(path.join(root, 'a', 'records.json', 'b'), items).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as NodeJS.ErrnoException).code).toBe('ENOTDIR');
      // The thread goes on writing after a failure.
      await thread.write(path.join(root, 'c'), items);
      expect(await readdir(path.join(root, 'c'))).toContain('records.json');
    } finally {
      await thread.close();
    }
  });

  it('never keeps the process alive once no write waits, even after a write that failed before it reached the thread', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'docent-shard-thread-'));
    folders.push(root);
    // Left open on purpose: the process must still end by itself.
    const script = `
      import { ShardThread } from ${JSON.stringify(path.resolve('src/index/vectra/shardThread.ts'))};
      const thread = new ShardThread();
      const vector = new Float32Array(4).fill(0.5);
      const record = { sourceId: 'a.md', sentence: 0, start: 0, end: 9, line: 1, text: 'Sentence.', entities: '' };
      await thread.write(${JSON.stringify(path.join(root, 'a'))}, { sourceId: 'a.md', chunks: [], sentences: [{ record, vector, context: vector }], termCounts: {} });
      const failed = await thread.write(${JSON.stringify(path.join(root, 'b'))}, { sourceId: 'b.md' }).then(() => false, () => true);
      console.log(failed ? 'written, then failed before the thread' : 'written twice');
    `;
    const file = path.join(root, 'writes.mts');
    await writeFile(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { timeout: 20_000 });
    expect(stdout.trim()).toBe('written, then failed before the thread');
  });
});
