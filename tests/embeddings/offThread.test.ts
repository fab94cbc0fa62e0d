/** The indexing copy of the model on its own thread gives the same vectors as the one on this thread. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Embedder } from '../../src/embeddings/embedder.ts';
import { offThreadEmbedder } from '../../src/embeddings/offThread.ts';
import { loadTestEmbedder, MODEL_CACHE_DIR } from '../integration/helpers.ts';

let base: Embedder;

beforeAll(async () => {
  base = await loadTestEmbedder();
});

afterAll(async () => {
  await base?.dispose();
});

it('embeds on a worker thread exactly as on this one, reporting progress, and stops on dispose', async () => {
  const texts = Array.from({ length: 70 }, (_, i) => `Sentence number ${i} about the talks in Istanbul${'.'.repeat(i % 5)}`);
  const offThread = offThreadEmbedder(base, { modelId: base.modelId, cacheDir: MODEL_CACHE_DIR, batchSize: 32 });
  try {
    expect(offThread.dimensions).toBe(base.dimensions);
    expect(offThread.countTokens('Who led the talks?')).toBe(base.countTokens('Who led the talks?'));
    const progress: number[] = [];
    const [there, here] = [await offThread.embed(texts, (done) => progress.push(done)), await base.embed(texts)];
    expect(there).toHaveLength(texts.length);
    there.forEach((vector, i) => vector.forEach((value, d) => expect(value).toBeCloseTo(here[i]![d]!, 5)));
    expect(progress).toEqual([32, 64, 70]);
    expect(await offThread.embed([])).toEqual([]);
  } finally {
    await offThread.dispose();
  }
  // Disposed, it starts a fresh thread if asked again.
  const again = offThreadEmbedder(base, { modelId: base.modelId, cacheDir: MODEL_CACHE_DIR, batchSize: 32 });
  expect((await again.embed(['one more']))[0]).toHaveLength(base.dimensions);
  await again.dispose();
});

it('disposed in the middle of a job, ends it at the next batch (the job fails, saying so) and stops; the next job starts a fresh thread', async () => {
  const offThread = offThreadEmbedder(base, { modelId: base.modelId, cacheDir: MODEL_CACHE_DIR, batchSize: 8 });
  try {
    await offThread.embed(['the thread is up']);
    const texts = Array.from({ length: 400 }, (_, i) => `Sentence ${i} of a long job.`);
    let disposed: Promise<void> | undefined;
    const progress: number[] = [];
    const job = offThread.embed(texts, (done) => {
      progress.push(done);
      disposed ??= offThread.dispose();
    });
    await expect(job).rejects.toThrow('The indexing thread was asked to stop.');
    await disposed;
    // Stopped between batches: the batch in hand finished, no later one began.
    expect(progress.length).toBeLessThanOrEqual(2);
    expect((await offThread.embed(['one more']))[0]).toHaveLength(base.dimensions);
  } finally {
    await offThread.dispose();
  }
});

it('says so when the thread cannot load the model', async () => {
  const broken = offThreadEmbedder(base, { modelId: base.modelId, cacheDir: MODEL_CACHE_DIR, batchSize: 0 });
  await expect(broken.embed(['x'])).rejects.toThrow(/indexing thread could not load the model: batchSize must be a positive integer/);
  await broken.dispose();
});

it("gives the word pieces' vectors of the texts that ask for them, the same on either thread, beside the same pooled vectors", async () => {
  const texts = ['Who led the talks in Istanbul?', 'Alexander Darchiev led the Russian delegation.', 'A third text, without pieces.'];
  const withTokens = [true, true, false];
  const offThread = offThreadEmbedder(base, { modelId: base.modelId, cacheDir: MODEL_CACHE_DIR, batchSize: 2 });
  try {
    const here = await base.embedWithTokens(texts, withTokens);
    const there = await offThread.embedWithTokens(texts, withTokens);
    const pooled = await base.embed(texts);
    here.vectors.forEach((vector, i) => vector.forEach((value, d) => expect(value).toBeCloseTo(pooled[i]![d]!, 6)));
    expect(here.tokens[2]).toBeUndefined();
    expect(there.tokens[2]).toBeUndefined();
    for (const i of [0, 1]) {
      // Every piece but [CLS] and [SEP], each a unit vector.
      const pieces = here.tokens[i]!;
      expect(pieces.length / base.dimensions).toBe(base.countTokens(texts[i]!) - 2);
      for (let row = 0; row < pieces.length / base.dimensions; row++) {
        expect(Math.hypot(...pieces.subarray(row * base.dimensions, (row + 1) * base.dimensions))).toBeCloseTo(1, 5);
      }
      there.tokens[i]!.forEach((value, j) => expect(value).toBeCloseTo(pieces[j]!, 5));
    }
  } finally {
    await offThread.dispose();
  }
});
