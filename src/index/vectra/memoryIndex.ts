import type { IndexedSource, Manifest } from '../manifest.ts';
import type { ChunkRecord, DenseHit, IndexReader, KeywordStats, SentenceFilter, SentenceRecord } from '../store.ts';
import { addMatrices, concatenate, dotAll, dotRow, toInt8, topK, type VectorMatrix } from '../vectorMath.ts';
import type { LoadedShard } from './shards.ts';

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
  readonly sentences: SentenceRecord[] = [];
  readonly chunks: ChunkRecord[] = [];
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
  private readonly termCounts = new Map<string, number>();

  /** `shards` are in manifest order, one per source, each made ready by `prepareShard`. */
  constructor(
    readonly generation: string,
    readonly manifest: Manifest,
    shards: readonly PreparedShard[],
    readonly fellBackTo?: { readonly generation: string; readonly reason: string },
  ) {
    this.dimensions = manifest.settings.dimensions;
    this.sources = new Map(manifest.sources.map((source) => [source.id, source]));
    const sentenceCount = shards.reduce((sum, shard) => sum + shard.sentences.length, 0);
    const int8 = shards.some((shard) => shard.sentenceVectors.codes instanceof Int8Array);
    this.sentenceVectors = concatenate(
      shards.map((shard) => shard.sentenceVectors),
      this.dimensions,
      int8,
    );
    this.denseVectors = concatenate(
      shards.map((shard) => shard.denseVectors),
      this.dimensions,
      int8,
    );
    this.chunkVectors = concatenate(
      shards.map((shard) => shard.chunkVectors),
      this.dimensions,
      int8,
    );
    this.chunkFrom = new Int32Array(sentenceCount);
    this.chunkTo = new Int32Array(sentenceCount);
    for (const shard of shards) {
      const firstSentence = this.sentences.length;
      const firstChunk = this.chunks.length;
      this.sentences.push(...shard.sentences);
      this.chunks.push(...shard.chunks);
      // Chunks are windows in sentence order, so those holding one sentence are contiguous.
      let low = 0;
      shard.sentences.forEach((sentence, i) => {
        while (low < shard.chunks.length && shard.chunks[low]!.lastSentence < sentence.sentence) low++;
        let high = low;
        while (high < shard.chunks.length && shard.chunks[high]!.firstSentence <= sentence.sentence) high++;
        this.chunkFrom[firstSentence + i] = firstChunk + low;
        this.chunkTo[firstSentence + i] = firstChunk + high;
      });
      for (const [term, count] of Object.entries(shard.termCounts)) this.termCounts.set(term, (this.termCounts.get(term) ?? 0) + count);
    }
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
