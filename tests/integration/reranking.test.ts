/** Re-ranking with word pieces, over the real seed articles, the real model and a real Vectra index. */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, evidenceOf } from '../../src/answer/decide.ts';
import { reindexFromConfig } from '../../src/docent.ts';
import { embedQuestions, type Embedder } from '../../src/embeddings/embedder.ts';
import { fittedModels } from '../../src/fitted/fitted.ts';
import { pieceBests, pieceMatches } from '../../src/index/vectorMath.ts';
import type { MemoryIndex } from '../../src/index/vectra/memoryIndex.ts';
import { VectraStore } from '../../src/index/vectra/vectraStore.ts';
import { RERANKED, search } from '../../src/retrieval/search.ts';
import { loadTestEmbedder, removeTempDirs, SEED_SOURCES, tempDir, testConfig } from './helpers.ts';

let embedder: Embedder;
let small: MemoryIndex;
let large: MemoryIndex;

async function indexed(label: string, largeAbove?: number): Promise<MemoryIndex> {
  const config = testConfig(SEED_SOURCES, tempDir(label));
  const store = new VectraStore(config.INDEX_DIR, largeAbove === undefined ? {} : { largeAbove });
  await reindexFromConfig(config, embedder, store);
  const reader = (await store.open())!;
  await store.close();
  return reader;
}

beforeAll(async () => {
  embedder = await loadTestEmbedder();
  small = await indexed('rerank-small');
  // Every index counts as large: int8 vectors, and no word pieces held.
  large = await indexed('rerank-large', 0);
});

afterAll(async () => {
  await small?.close();
  await large?.close();
  await embedder?.dispose();
  removeTempDirs();
});

describe('re-ranking', () => {
  const question = 'Who led the talks in Istanbul?';

  it("ranks the first pass's best again with the question's word pieces, leaving the first pass's evidence for the decision as it was", async () => {
    const [query] = await embedQuestions(embedder, [question]);
    const rankers = fittedModels();
    const reranked = await search(small, question, query!, rankers);
    const firstOnly = await search(small, question, { vector: query!.vector }, rankers);

    expect(firstOnly.ranked).toEqual(firstOnly.firstPass);
    expect(reranked.firstPass).toEqual(firstOnly.firstPass);
    // The decision reads the first pass as before, and how the question's pieces meet the passage quoted first.
    const { tokens, weakestToken, ...firstPassEvidence } = evidenceOf(reranked)!;
    expect(firstPassEvidence).toEqual(evidenceOf(firstOnly));
    expect(evidenceOf(firstOnly)).not.toHaveProperty('tokens');
    expect(firstOnly.passage).toBeUndefined();
    expect({ tokens, weakestToken }).toEqual(reranked.passage);
    // The passage (the article's re-ranked sentences together) meets "Istanbul", which the answering sentence does not name.
    expect(reranked.ranked[0]!.sentence.text).not.toContain('Istanbul');
    expect(weakestToken).toBeGreaterThan(reranked.ranked[0]!.features.weakestToken!);
    expect(tokens).toBeGreaterThan(reranked.ranked[0]!.features.tokens!);

    // The re-ranked are the first pass's best, each with its word-piece evidence, best first.
    expect(reranked.ranked.length).toBe(Math.min(RERANKED, firstOnly.firstPass.length));
    const best = new Set(firstOnly.firstPass.slice(0, RERANKED).map((entry) => entry.sentence));
    expect(reranked.ranked.every((entry) => best.has(entry.sentence))).toBe(true);
    const scores = reranked.ranked.map((entry) => entry.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const pieces = await small.tokenVectors(reranked.ranked.map((entry) => entry.sentence));
    reranked.ranked.forEach((entry, i) => {
      const matched = pieceMatches(pieceBests(query!.tokens, pieces[i]!));
      expect(entry.features.tokens).toBeCloseTo(matched.mean, 9);
      expect(entry.features.weakestToken).toBeCloseTo(matched.weakest, 9);
      expect(entry.features.weakestToken).toBeLessThan(entry.features.tokens!);
    });
    // The answer, naming both delegations' leaders, comes first.
    expect(reranked.ranked[0]!.sentence.text).toMatch(/Darchiy?ev/);
    expect(reranked.ranked[0]!.sentence.text).toContain('Coulter');
  });

  it('re-ranks a large index alike: its word pieces, like its vectors, are read from the shards', async () => {
    const [query] = await embedQuestions(embedder, [question]);
    const sentences = small.sentences.slice(0, 3);
    const [fromLarge, fromSmall] = [await large.tokenVectors(sentences), await small.tokenVectors(sentences)];
    fromSmall.forEach((matrix, i) => {
      expect(matrix!.rows).toBeGreaterThan(0);
      expect(fromLarge[i]).toEqual(matrix);
    });
    const result = await search(large, question, query!, fittedModels());
    expect(result.ranked[0]!.features.tokens).toBeGreaterThan(0);
    expect(result.ranked[0]!.sentence.text).toContain('Coulter');
  });

  it('ranks by the first pass alone when the word pieces cannot be read (a retired generation whose files went)', async () => {
    const [query] = await embedQuestions(embedder, [question]);
    const config = testConfig(SEED_SOURCES, tempDir('rerank-gone'));
    const store = new VectraStore(config.INDEX_DIR);
    await reindexFromConfig(config, embedder, store);
    const reader = (await store.open())!;
    await store.close();
    for (const shard of await readdir(path.join(config.INDEX_DIR, 'shards'))) await rm(path.join(config.INDEX_DIR, 'shards', shard, 'tokens.i8'));
    const result = await search(reader, question, query!, fittedModels());
    expect(result.ranked).toEqual(result.firstPass);
    // The decision still answers, from the first pass's evidence alone, with the models fitted for it.
    expect(evidenceOf(result)).not.toHaveProperty('weakestToken');
    expect(decide(evidenceOf(result), fittedModels().decision)).toMatchObject({ kind: 'answer' });
    await reader.close();
  });
});
