import type { IndexedSource } from '../index/manifest.ts';
import type { ChunkRecord, ContextRecord, Generation, SentenceRecord } from '../index/store.ts';
import { buildBm25, type Bm25Index } from './bm25.ts';
import { terms } from './terms.ts';

/** Everything a query needs, held in memory: vectors as flat matrices, keyword indexes, lookups. */
export interface SearchIndex {
  readonly dimensions: number;
  readonly sources: ReadonlyMap<string, IndexedSource>;
  readonly chunks: readonly ChunkRecord[];
  /** One row per chunk, embedded with its article's title. */
  readonly chunkVectors: Float32Array;
  readonly sentences: readonly SentenceRecord[];
  readonly sentenceVectors: Float32Array;
  /** One row per sentence (same order), embedded as `title. sentence`. */
  readonly contextVectors: Float32Array;
  /** BM25 over sentences: the keyword baseline, and the IDF that weighs question terms. */
  readonly sentenceKeywords: Bm25Index;
  /** Each sentence's keyword stems. */
  readonly sentenceTerms: readonly ReadonlySet<string>[];
  /** Keyword stems of each sentence's article title (shared by the sentences of one article). */
  readonly titleTerms: readonly ReadonlySet<string>[];
  /** For each sentence, the chunks (by position in `chunks`) that contain it. */
  readonly chunksOfSentence: readonly number[][];
}

export class IndexFormatError extends Error {
  override name = 'IndexFormatError';
}

function flatten(vectors: readonly (readonly number[])[], dimensions: number): Float32Array {
  const matrix = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => matrix.set(vector, row * dimensions));
  return matrix;
}

const sourceOrder = (a: { sourceId: string }, b: { sourceId: string }) => (a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0);
const sentenceKey = (record: { sourceId: string; sentence: number }) => `${record.sourceId}#${record.sentence}`;

export function buildSearchIndex(generation: Generation): SearchIndex {
  const { dimensions } = generation.manifest.settings;
  const ofKind = <K extends 'chunk' | 'sentence' | 'context'>(kind: K) =>
    generation.items.filter((item): item is typeof item & { record: Extract<typeof item.record, { kind: K }> } => item.record.kind === kind);
  const chunkItems = ofKind('chunk').sort((a, b) => sourceOrder(a.record, b.record) || a.record.chunk - b.record.chunk);
  const sentenceItems = ofKind('sentence').sort((a, b) => sourceOrder(a.record, b.record) || a.record.sentence - b.record.sentence);
  const contextByKey = new Map(ofKind('context').map((item) => [sentenceKey(item.record as ContextRecord), item.vector]));
  const chunks = chunkItems.map((item) => item.record);
  const sentences = sentenceItems.map((item) => item.record);
  const contextVectors = sentences.map((sentence) => {
    const vector = contextByKey.get(sentenceKey(sentence));
    if (vector === undefined) throw new IndexFormatError(`The index has no context vector for ${sentenceKey(sentence)}; it predates this version of Docent and must be rebuilt.`);
    return vector;
  });

  const sentencePosition = new Map(sentences.map((s, position) => [sentenceKey(s), position]));
  const chunksOfSentence: number[][] = sentences.map(() => []);
  chunks.forEach((chunk, chunkPosition) => {
    for (let sentence = chunk.firstSentence; sentence <= chunk.lastSentence; sentence++) {
      const position = sentencePosition.get(`${chunk.sourceId}#${sentence}`);
      if (position !== undefined) chunksOfSentence[position]!.push(chunkPosition);
    }
  });
  const sources = new Map(generation.manifest.sources.map((source) => [source.id, source]));
  const titleTermsOf = new Map(generation.manifest.sources.map((source) => [source.id, new Set(terms(source.title))]));
  const noTerms = new Set<string>();

  return {
    dimensions,
    sources,
    chunks,
    chunkVectors: flatten(chunkItems.map((item) => item.vector), dimensions),
    sentences,
    sentenceVectors: flatten(sentenceItems.map((item) => item.vector), dimensions),
    contextVectors: flatten(contextVectors, dimensions),
    sentenceKeywords: buildBm25(sentences.map((sentence) => sentence.text)),
    sentenceTerms: sentences.map((sentence) => new Set(terms(sentence.text))),
    titleTerms: sentences.map((sentence) => titleTermsOf.get(sentence.sourceId) ?? noTerms),
    chunksOfSentence,
  };
}
