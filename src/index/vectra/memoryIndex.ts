import type { IndexedSource, Manifest } from '../manifest.ts';
import type { ChunkRecord, DenseHit, IndexReader, KeywordStats, SentenceFilter, SentenceRecord } from '../store.ts';
import { dotAll, dotRow, float32Matrix, topK, type VectorMatrix } from '../vectorMath.ts';
import { clusterRows } from './clusters.ts';
import { type PreparedShard, ShardFormatError } from './shards.ts';

/**
 * A generation held in memory: every vector in a matrix (one row per record), float32 or, past
 * INT8_ABOVE_SENTENCES, int8; searched exhaustively. Exact (but for int8 rounding), and fast up to
 * a few hundred thousand sentences on one core; past that, the PostgreSQL store's HNSW indexes are
 * the way (see README, Limits).
 */
export const INT8_ABOVE_SENTENCES = 200_000;

/**
 * In a large index, a question is scored against the sentence groups' centroids first, and only
 * the sentences of the closest groups are scored: groups holding at least PROBE_SHARE of the
 * sentences, and never fewer than PROBE_MIN_SENTENCES (see README for what this costs in recall).
 */
export const PROBE_SHARE = 0.02;
export const PROBE_MIN_SENTENCES = 20_000;

/** Sentence groups over the whole index, as compressed rows: group g holds `members[start[g]..start[g+1])`. */
export interface SentenceGroups {
  readonly centroids: VectorMatrix;
  readonly start: Int32Array;
  readonly members: Int32Array;
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
  readonly groups?: SentenceGroups;
  /** How much of a grouped index a question scores; PROBE_SHARE and PROBE_MIN_SENTENCES unless set. */
  readonly probing?: Probing;
}

export interface Probing {
  readonly share: number;
  readonly minimum: number;
}

function emptyMatrix(rows: number, dimensions: number, int8: boolean): VectorMatrix {
  return { dimensions, rows, codes: int8 ? new Int8Array(rows * dimensions) : new Float32Array(rows * dimensions), scales: new Float32Array(rows) };
}

function copyInto(target: VectorMatrix, source: VectorMatrix, firstRow: number): void {
  if (firstRow + source.rows > target.rows) throw new ShardFormatError('a shard holds more rows than its manifest entry says');
  target.codes.set(source.codes, firstRow * target.dimensions);
  target.scales.set(source.scales, firstRow);
}

/** Sentence groups as compressed rows (a counting sort of the sentences by group), from each sentence's group and the centroids in group order. */
function groupsOf(groupOf: Int32Array, centroids: readonly Float32Array[], groupCount: number, dimensions: number): SentenceGroups {
  const values = new Float32Array(groupCount * dimensions);
  let offset = 0;
  for (const part of centroids) {
    values.set(part, offset);
    offset += part.length;
  }
  const start = new Int32Array(groupCount + 1);
  for (const group of groupOf) start[group + 1]!++;
  for (let g = 0; g < groupCount; g++) start[g + 1]! += start[g]!;
  const next = start.slice(0, groupCount);
  const members = new Int32Array(groupOf.length);
  groupOf.forEach((group, position) => {
    members[next[group]!++] = position;
  });
  return { centroids: float32Matrix(values, dimensions), start, members };
}

/**
 * Assembles a MemoryIndex one shard at a time into matrices sized from the manifest, so loading
 * never stops for long (the caller yields between shards) and never holds two copies.
 */
export class MemoryIndexBuilder {
  private readonly parts: IndexParts;
  private sentenceCount = 0;
  private chunkCount = 0;
  /** For a large index: each sentence's group (numbered across the index), and the groups' centroids. */
  private readonly groupOf: Int32Array | undefined;
  private readonly centroids: Float32Array[] = [];
  private groupCount = 0;

  constructor(
    private readonly manifest: Manifest,
    int8: boolean,
    private readonly probing?: Probing,
    /** The generation's summed keyword counts, when it keeps them; otherwise each shard's are added up. */
    private readonly terms?: Readonly<Record<string, number>>,
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
      termCounts: new Map(terms ? Object.entries(terms) : []),
    };
    this.groupOf = int8 ? new Int32Array(sentences) : undefined;
  }

  /** Adds the next source's shard, in manifest order, prepared as `int8` says. */
  add(shard: PreparedShard): void {
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
    if (!this.terms) for (const [term, count] of Object.entries(shard.termCounts)) parts.termCounts.set(term, (parts.termCounts.get(term) ?? 0) + count);
    if (this.groupOf && shard.clusters) {
      const { assignments, centroids, count } = shard.clusters;
      if (assignments.length !== shard.sentences.length) throw new ShardFormatError('a shard has sentence groups for another number of sentences');
      for (let i = 0; i < assignments.length; i++) this.groupOf[firstSentence + i] = this.groupCount + assignments[i]!;
      this.centroids.push(centroids);
      this.groupCount += count;
    }
    this.sentenceCount += shard.sentences.length;
    this.chunkCount += shard.chunks.length;
  }

  build(generation: string, fellBackTo?: { readonly generation: string; readonly reason: string }): MemoryIndex {
    if (this.sentenceCount !== this.parts.sentenceVectors.rows || this.chunkCount !== this.parts.chunkVectors.rows) {
      throw new ShardFormatError(
        `the shards hold ${this.sentenceCount} sentences and ${this.chunkCount} chunks; the manifest says ${this.parts.sentenceVectors.rows} and ${this.parts.chunkVectors.rows}`,
      );
    }
    return new MemoryIndex(generation, this.manifest, { ...this.parts, groups: this.groups(), ...(this.probing ? { probing: this.probing } : {}) }, fellBackTo);
  }

  private groups(): SentenceGroups | undefined {
    return this.groupOf && groupsOf(this.groupOf, this.centroids, this.groupCount, this.manifest.settings.dimensions);
  }
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
  private readonly groups: SentenceGroups | undefined;
  private readonly probing: Probing;
  private readonly parts: IndexParts;

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
    this.groups = parts.groups;
    this.probing = parts.probing ?? { share: PROBE_SHARE, minimum: PROBE_MIN_SENTENCES };
    this.parts = parts;
  }

  /**
   * The same index searched as a large one is, through sentence groups probed as `probing` says:
   * how the eval measures what grouping costs in quality on corpora small enough to check exactly.
   */
  async probed(probing: Probing): Promise<MemoryIndex> {
    let first = 0;
    const centroids: Float32Array[] = [];
    const groupOf = new Int32Array(this.sentences.length);
    let groupCount = 0;
    for (const source of this.manifest.sources) {
      const rows = source.sentences;
      const dense = this.denseVectors;
      const slice: VectorMatrix = {
        dimensions: dense.dimensions,
        rows,
        codes: dense.codes.subarray(first * dense.dimensions, (first + rows) * dense.dimensions),
        scales: dense.scales.subarray(first, first + rows),
      };
      const clusters = await clusterRows(slice);
      for (let i = 0; i < rows; i++) groupOf[first + i] = groupCount + clusters.assignments[i]!;
      centroids.push(clusters.centroids);
      groupCount += clusters.count;
      first += rows;
    }
    const groups = groupsOf(groupOf, centroids, groupCount, this.dimensions);
    return new MemoryIndex(this.generation, this.manifest, { ...this.parts, groups, probing }, this.fellBackTo);
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
    const keep = exclude ? (position: number) => !exclude(this.sentences[position]!) : () => true;
    const { positions, scores } = this.groups ? this.probe(this.groups, q) : { positions: undefined, scores: dotAll(this.denseVectors, q) };
    return topK(scores, k, positions ? (i) => keep(positions[i]!) : keep).map((i) => {
      const position = positions ? positions[i]! : i;
      const cosine = dotRow(this.sentenceVectors, position, q);
      return { sentence: this.sentences[position]!, cosine, contextCosine: scores[i]! - cosine, chunkCosine: this.chunkCosine(position, q) };
    });
  }

  /** The sentences of the groups closest to `q`, with their scores: what a large index scores instead of every sentence. */
  private probe(groups: SentenceGroups, q: Float64Array): { positions: Int32Array; scores: Float64Array } {
    const wanted = Math.min(this.sentences.length, Math.max(this.probing.minimum, Math.ceil(this.probing.share * this.sentences.length)));
    const byCentroid = dotAll(groups.centroids, q);
    // Groups are taken best first until they hold enough sentences; a few hundred groups at most are sorted.
    const order = topK(byCentroid, Math.min(groups.centroids.rows, Math.ceil((wanted / this.sentences.length) * groups.centroids.rows * 2) + 16));
    const chosen: number[] = [];
    let size = 0;
    for (const group of order) {
      if (size >= wanted) break;
      chosen.push(group);
      size += groups.start[group + 1]! - groups.start[group]!;
    }
    const positions = new Int32Array(size);
    let at = 0;
    for (const group of chosen) {
      positions.set(groups.members.subarray(groups.start[group]!, groups.start[group + 1]!), at);
      at += groups.start[group + 1]! - groups.start[group]!;
    }
    const scores = new Float64Array(size);
    for (let i = 0; i < size; i++) scores[i] = dotRow(this.denseVectors, positions[i]!, q);
    return { positions, scores };
  }

  async keywordStats(terms: readonly string[]): Promise<KeywordStats> {
    return { sentences: this.sentences.length, frequencies: terms.map((term) => this.termCounts.get(term) ?? 0) };
  }

  async close(): Promise<void> {}
}
