import type { IndexedSource } from '../index/manifest.ts';
import type { ChunkRecord, Generation, SentenceRecord } from '../index/store.ts';
import { buildBm25, type Bm25Index } from './bm25.ts';
import { terms } from './terms.ts';

/** Everything a query needs, held in memory: vectors as flat matrices, keyword indexes, lookups. */
export interface SearchIndex {
  readonly dimensions: number;
  readonly sources: ReadonlyMap<string, IndexedSource>;
  readonly chunks: readonly ChunkRecord[];
  readonly chunkVectors: Float32Array;
  readonly chunkKeywords: Bm25Index;
  /** Each chunk's keyword stems, for measuring how much of a question a passage covers. */
  readonly chunkTerms: readonly ReadonlySet<string>[];
  readonly sentences: readonly SentenceRecord[];
  readonly sentenceVectors: Float32Array;
  readonly sentenceKeywords: Bm25Index;
  /** For each sentence, the chunks (by position in `chunks`) that contain it. */
  readonly chunksOfSentence: readonly number[][];
}

function flatten(vectors: readonly (readonly number[])[], dimensions: number): Float32Array {
  const matrix = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => matrix.set(vector, row * dimensions));
  return matrix;
}

const sourceOrder = (a: { sourceId: string }, b: { sourceId: string }) => (a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0);

export function buildSearchIndex(generation: Generation): SearchIndex {
  const { dimensions } = generation.manifest.settings;
  const chunkItems = generation.items
    .filter((item): item is typeof item & { record: ChunkRecord } => item.record.kind === 'chunk')
    .sort((a, b) => sourceOrder(a.record, b.record) || a.record.chunk - b.record.chunk);
  const sentenceItems = generation.items
    .filter((item): item is typeof item & { record: SentenceRecord } => item.record.kind === 'sentence')
    .sort((a, b) => sourceOrder(a.record, b.record) || a.record.sentence - b.record.sentence);
  const chunks = chunkItems.map((item) => item.record);
  const sentences = sentenceItems.map((item) => item.record);

  const sentencePosition = new Map(sentences.map((s, position) => [`${s.sourceId}#${s.sentence}`, position]));
  const chunksOfSentence: number[][] = sentences.map(() => []);
  chunks.forEach((chunk, chunkPosition) => {
    for (let sentence = chunk.firstSentence; sentence <= chunk.lastSentence; sentence++) {
      const position = sentencePosition.get(`${chunk.sourceId}#${sentence}`);
      if (position !== undefined) chunksOfSentence[position]!.push(chunkPosition);
    }
  });

  return {
    dimensions,
    sources: new Map(generation.manifest.sources.map((source) => [source.id, source])),
    chunks,
    chunkVectors: flatten(chunkItems.map((item) => item.vector), dimensions),
    chunkKeywords: buildBm25(chunks.map((chunk) => chunk.text)),
    chunkTerms: chunks.map((chunk) => new Set(terms(chunk.text))),
    sentences,
    sentenceVectors: flatten(sentenceItems.map((item) => item.vector), dimensions),
    sentenceKeywords: buildBm25(sentences.map((sentence) => sentence.text)),
    chunksOfSentence,
  };
}
