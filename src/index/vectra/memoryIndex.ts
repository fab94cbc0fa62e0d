import type { IndexedSource, Manifest } from '../manifest.ts';
import type { ChunkRecord, DenseHit, IndexReader, KeywordStats, SentenceFilter, SentenceRecord } from '../store.ts';
import { addMatrices, dotAll, dotRow, toInt8, topK, type VectorMatrix } from '../vectorMath.ts';
import { ShardFormatError, type LoadedShard } from './shards.ts';

/**
 * A generation held in memory: every vector in a matrix (one row per record), float32 or, past
 * INT8_ABOVE_SENTENCES, int8; searched exhaustively. Exact (but for int8 rounding), and fast up to
 * a few hundred thousand sentences on one core; past that, the PostgreSQL store's HNSW indexes are
 * the way (see README, Limits).
 */
export const INT8_ABOVE_SENTENCES = 200_000;

/** A shard in the form the index holds it: the sum matrix in place of the context vectors, int8 when `int8`. */
export interface PreparedShard extends Omit<LoadedShard, 'contextVectors'> {
  readonly denseVectors: VectorMatrix;
}

interface IndexParts {
  readonly sentences: SentenceRecord[];
  readonly chunks: ChunkRecord[];
  readonly sentenceVectors: VectorMatrix;
  readonly denseVectors: VectorMatrix;
  readonly chunkVectors: VectorMatrix;
  readonly chunkFrom: Int32Array;
  readonly chunkTo: Int32Array;
  readonly termCounts: Map<string, number>;
}

function emptyMatrix(rows: number, dimensions: number, int8: boolean): VectorMatrix {
  return { dimensions, rows, codes: int8 ? new Int8Array(rows * dimensions) : new Float32Array(rows * dimensions), scales: new Float32Array(rows) };
}

function copyInto(target: VectorMatrix, source: VectorMatrix, firstRow: number): void {
  if (firstRow + source.rows > target.rows) throw new ShardFormatError('a shard holds more rows than its manifest entry says');
  target.codes.set(source.codes, firstRow * target.dimensions);
  target.scales.set(source.scales, firstRow);
}

/**
 * Assembles a MemoryIndex one shard at a time into matrices sized from the manifest, so loading
 * never stops for long (the caller yields between shards) and never holds two copies.
 */
export class MemoryIndexBuilder {
  private readonly parts: IndexParts;
  private sentenceCount = 0;
  private chunkCount = 0;

  constructor(
    private readonly manifest: Manifest,
    private readonly int8: boolean,
  ) {
    const { dimensions } = manifest.settings;
    const sentences = manifest.sources.reduce((sum, source) => sum + source.sentences, 0);
    const chunks = manifest.sources.reduce((sum, source) => sum + source.chunks, 0);
    this.parts = {
      sentences: [],
      chunks: [],
      sentenceVectors: emptyMatrix(sentences, dimensions, int8),
      denseVectors: emptyMatrix(sentences, dimensions, int8),
      chunkVectors: emptyMatrix(chunks, dimensions, int8),
      chunkFrom: new Int32Array(sentences),
      chunkTo: new Int32Array(sentences),
      termCounts: new Map(),
    };
  }

  /** Adds the next source's shard, in manifest order. */
  add(loaded: LoadedShard): void {
    const shard = prepareShard(loaded, this.int8);
    const { parts } = this;
    const firstSentence = this.sentenceCount;
    const firstChunk = this.chunkCount;
    copyInto(parts.sentenceVectors, shard.sentenceVectors, firstSentence);
    copyInto(parts.denseVectors, shard.denseVectors, firstSentence);
    copyInto(parts.chunkVectors, shard.chunkVectors, firstChunk);
    for (const sentence of shard.sentences) parts.sentences.push(sentence);
    for (const chunk of shard.chunks) parts.chunks.push(chunk);
    // Chunks are windows in sentence order, so those holding one sentence are contiguous.
    let low = 0;
    shard.sentences.forEach((sentence, i) => {
      while (low < shard.chunks.length && shard.chunks[low]!.lastSentence < sentence.sentence) low++;
      let high = low;
      while (high < shard.chunks.length && shard.chunks[high]!.firstSentence <= sentence.sentence) high++;
      parts.chunkFrom[firstSentence + i] = firstChunk + low;
      parts.chunkTo[firstSentence + i] = firstChunk + high;
    });
    for (const [term, count] of Object.entries(shard.termCounts)) parts.termCounts.set(term, (parts.termCounts.get(term) ?? 0) + count);
    this.sentenceCount += shard.sentences.length;
    this.chunkCount += shard.chunks.length;
  }

  build(generation: string, fellBackTo?: { readonly generation: string; readonly reason: string }): MemoryIndex {
    if (this.sentenceCount !== this.parts.sentenceVectors.rows || this.chunkCount !== this.parts.chunkVectors.rows) {
      throw new ShardFormatError(
        `the shards hold ${this.sentenceCount} sentences and ${this.chunkCount} chunks; the manifest says ${this.parts.sentenceVectors.rows} and ${this.parts.chunkVectors.rows}`,
      );
    }
    return new MemoryIndex(generation, this.manifest, this.parts, fellBackTo);
  }
}

/**
 * Converts a shard as soon as it is read, so a large index never holds every shard's float32
 * vectors at once (at a million sentences that alone would be 3 GiB).
 */
export function prepareShard(shard: LoadedShard, int8: boolean): PreparedShard {
  const stored = (matrix: VectorMatrix) => (int8 ? toInt8(matrix) : matrix);
  const { contextVectors, ...rest } = shard;
  return {
    ...rest,
    sentenceVectors: stored(shard.sentenceVectors),
    denseVectors: stored(addMatrices(shard.sentenceVectors, contextVectors)),
    chunkVectors: stored(shard.chunkVectors),
  };
}
export class MemoryIndex implements IndexReader {
  readonly sources: ReadonlyMap<string, IndexedSource>;
  readonly dimensions: number;
  readonly sentences: SentenceRecord[];
  readonly chunks: ChunkRecord[];
  readonly sentenceVectors: VectorMatrix;
  /**
   * Each sentence's two vectors summed (alone + in context): the first stage ranks by the sum of
   * both cosines, which is one dot product with this. The context cosine is this one's less the
   * sentence's, so the context vectors themselves need not be kept.
   */
  readonly denseVectors: VectorMatrix;
  readonly chunkVectors: VectorMatrix;
  /** For each sentence, the range [from, to) of positions in `chunks` that may hold it. */
  private readonly chunkFrom: Int32Array;
  private readonly chunkTo: Int32Array;
  private readonly termCounts: Map<string, number>;

  /** Built by `MemoryIndexBuilder`, shard by shard. */
  constructor(
    readonly generation: string,
    readonly manifest: Manifest,
    parts: IndexParts,
    readonly fellBackTo?: { readonly generation: string; readonly reason: string },
  ) {
    this.dimensions = manifest.settings.dimensions;
    this.sources = new Map(manifest.sources.map((source) => [source.id, source]));
    this.sentences = parts.sentences;
    this.chunks = parts.chunks;
    this.sentenceVectors = parts.sentenceVectors;
    this.denseVectors = parts.denseVectors;
    this.chunkVectors = parts.chunkVectors;
    this.chunkFrom = parts.chunkFrom;
    this.chunkTo = parts.chunkTo;
    this.termCounts = parts.termCounts;
  }

  /** Best cosine of `query` to a chunk holding the sentence at `position`. */
  private chunkCosine(position: number, query: Float64Array): number {
    let best = -1;
    for (let chunk = this.chunkFrom[position]!; chunk < this.chunkTo[position]!; chunk++) best = Math.max(best, dotRow(this.chunkVectors, chunk, query));
    return best;
  }

  /** Cosine of `query` to every sentence alone, in `sentences` order (the eval's dense baseline). */
  sentenceCosines(query: ArrayLike<number>): Float64Array {
    return dotAll(this.sentenceVectors, Float64Array.from(query));
  }

  async nearest(query: Float32Array, k: number, exclude?: SentenceFilter): Promise<DenseHit[]> {
    const q = Float64Array.from(query);
    const dense = dotAll(this.denseVectors, q);
    const keep = exclude ? (position: number) => !exclude(this.sentences[position]!) : undefined;
    return topK(dense, k, keep).map((position) => {
      const cosine = dotRow(this.sentenceVectors, position, q);
      return { sentence: this.sentences[position]!, cosine, contextCosine: dense[position]! - cosine, chunkCosine: this.chunkCosine(position, q) };
    });
  }

  async keywordStats(terms: readonly string[]): Promise<KeywordStats> {
    return { sentences: this.sentences.length, frequencies: terms.map((term) => this.termCounts.get(term) ?? 0) };
  }

  async close(): Promise<void> {}
}
