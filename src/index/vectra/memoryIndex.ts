import type { IndexedSource, Manifest } from '../manifest.ts';
import type { ChunkRecord, DenseHit, IndexReader, KeywordStats, SentenceFilter, SentenceRecord } from '../store.ts';
import { dotRow, topK } from '../vectorMath.ts';
import type { LoadedShard } from './shards.ts';

/**
 * A generation held in memory: every vector in flat Float32Array matrices (one row per record),
 * searched exhaustively. Exact, and fast up to a few hundred thousand sentences on one core.
 */
export class MemoryIndex implements IndexReader {
  readonly sources: ReadonlyMap<string, IndexedSource>;
  readonly dimensions: number;
  readonly sentences: SentenceRecord[] = [];
  readonly chunks: ChunkRecord[] = [];
  readonly sentenceVectors: Float32Array;
  readonly contextVectors: Float32Array;
  readonly chunkVectors: Float32Array;
  /** For each sentence, the range [from, to) of positions in `chunks` that may hold it. */
  private readonly chunkFrom: Int32Array;
  private readonly chunkTo: Int32Array;
  private readonly termCounts = new Map<string, number>();

  /** `shards` are in manifest order: one per source. */
  constructor(
    readonly generation: string,
    readonly manifest: Manifest,
    shards: readonly LoadedShard[],
  ) {
    this.dimensions = manifest.settings.dimensions;
    this.sources = new Map(manifest.sources.map((source) => [source.id, source]));
    const sentenceCount = shards.reduce((sum, shard) => sum + shard.sentences.length, 0);
    const chunkCount = shards.reduce((sum, shard) => sum + shard.chunks.length, 0);
    this.sentenceVectors = new Float32Array(sentenceCount * this.dimensions);
    this.contextVectors = new Float32Array(sentenceCount * this.dimensions);
    this.chunkVectors = new Float32Array(chunkCount * this.dimensions);
    this.chunkFrom = new Int32Array(sentenceCount);
    this.chunkTo = new Int32Array(sentenceCount);
    for (const shard of shards) {
      const firstSentence = this.sentences.length;
      const firstChunk = this.chunks.length;
      this.sentenceVectors.set(shard.sentenceVectors, firstSentence * this.dimensions);
      this.contextVectors.set(shard.contextVectors, firstSentence * this.dimensions);
      this.chunkVectors.set(shard.chunkVectors, firstChunk * this.dimensions);
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
  chunkCosine(position: number, query: Float32Array): number {
    let best = -1;
    for (let chunk = this.chunkFrom[position]!; chunk < this.chunkTo[position]!; chunk++) best = Math.max(best, dotRow(this.chunkVectors, this.dimensions, chunk, query));
    return best;
  }

  async nearest(query: Float32Array, k: number, exclude?: SentenceFilter): Promise<DenseHit[]> {
    const { dimensions, sentenceVectors, contextVectors } = this;
    const q = Float64Array.from(query);
    const dense = new Float64Array(this.sentences.length);
    // One pass over both matrices, inlined: this loop is most of a query's time.
    for (let row = 0, offset = 0; row < dense.length; row++, offset += dimensions) {
      let sum = 0;
      for (let d = 0; d < dimensions; d++) sum += (sentenceVectors[offset + d]! + contextVectors[offset + d]!) * q[d]!;
      dense[row] = sum;
    }
    const keep = exclude ? (position: number) => !exclude(this.sentences[position]!) : undefined;
    return topK(dense, k, keep).map((position) => ({
      sentence: this.sentences[position]!,
      cosine: dotRow(this.sentenceVectors, dimensions, position, query),
      contextCosine: dotRow(this.contextVectors, dimensions, position, query),
      chunkCosine: this.chunkCosine(position, query),
    }));
  }

  async keywordStats(terms: readonly string[]): Promise<KeywordStats> {
    return { sentences: this.sentences.length, frequencies: terms.map((term) => this.termCounts.get(term) ?? 0) };
  }

  async close(): Promise<void> {}
}
