import { open } from 'node:fs/promises';
import type { IndexedSource, Manifest } from '../manifest.ts';
import { readTokenVectors } from '../tokenVectors.ts';
import { type ChunkRecord, type DenseHit, type IndexReader, type KeywordStats, type SentenceFilter, type SentenceRecord, yieldToEventLoop } from '../store.ts';
import { dotAll, dotRow, topK, type VectorMatrix } from '../vectorMath.ts';
import type { AnnReader } from './ann.ts';
import { type PreparedShard, ShardFormatError, type ShardRows, type ShardTokens } from './shards.ts';

/**
 * A generation held in memory: every vector in a matrix (one row per record), float32 or, past
 * LARGE_ABOVE_SENTENCES, int8. A small one is searched exhaustively; a large one through its HNSW
 * graph (ann.ts), whose closest ANN_CANDIDATES sentences are then scored exactly.
 */
export const LARGE_ABOVE_SENTENCES = 200_000;

/** Sentences the graph proposes for exact scoring: four times the 100 that ranking reads. */
export const ANN_CANDIDATES = 400;

/** A large index's graph, and where each of its shards' sentences begin in this index. */
interface Graph {
  readonly reader: AnnReader;
  readonly firstSentence: Map<string, { readonly first: number; readonly count: number }>;
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
  /** Per source whose shard keeps them, where its sentences' word-piece vectors are (sentence numbers are positions). */
  readonly tokens: Map<string, ShardTokens>;
  readonly graph?: Graph;
}

function emptyMatrix(rows: number, dimensions: number, int8: boolean): VectorMatrix {
  return { dimensions, rows, codes: int8 ? new Int8Array(rows * dimensions) : new Float32Array(rows * dimensions), scales: new Float32Array(rows) };
}

function rowsOf(matrix: VectorMatrix, firstRow: number, rows: number): VectorMatrix {
  const { dimensions } = matrix;
  return {
    dimensions,
    rows,
    codes: matrix.codes.subarray(firstRow * dimensions, (firstRow + rows) * dimensions),
    scales: matrix.scales.subarray(firstRow, firstRow + rows),
  };
}

function copyInto(target: VectorMatrix, source: VectorMatrix, firstRow: number): void {
  if (firstRow + source.rows > target.rows) throw new ShardFormatError('a shard holds more rows than its manifest entry says');
  // A shard read straight into place (see `rowsFor`) is there already.
  const inPlace =
    source.codes.buffer === target.codes.buffer &&
    source.codes.byteOffset === target.codes.byteOffset + firstRow * target.dimensions * target.codes.BYTES_PER_ELEMENT;
  if (inPlace) return;
  target.codes.set(source.codes, firstRow * target.dimensions);
  target.scales.set(source.scales, firstRow);
}

interface FirstRows {
  readonly sentences: Int32Array;
  readonly chunks: Int32Array;
}

/** The row each source's first sentence and first chunk take, sources in manifest order, then the totals. */
function firstRowsOf(manifest: Manifest): FirstRows {
  const rows = { sentences: new Int32Array(manifest.sources.length + 1), chunks: new Int32Array(manifest.sources.length + 1) };
  manifest.sources.forEach((source, i) => {
    rows.sentences[i + 1] = rows.sentences[i]! + source.sentences;
    rows.chunks[i + 1] = rows.chunks[i]! + source.chunks;
  });
  return rows;
}

/**
 * Assembles a MemoryIndex one shard at a time into matrices sized from the manifest, so loading
 * never stops for long (the caller yields between shards) and never holds two copies.
 */
export class MemoryIndexBuilder {
  private sentenceCount = 0;
  private chunkCount = 0;
  private readonly firstSentence = new Map<string, { first: number; count: number }>();

  /**
   * A builder with room for every record `manifest` lists, each large piece made in a turn of its
   * own. The record arrays are sized once and filled in place: an array grown by push copies
   * itself as it grows, and at a million sentences one such copy held loading for 47 to 77 ms;
   * making one of a million slots takes 20 to 40 ms. Each matrix is hundreds of megabytes held
   * outside V8's heap, and V8 collects when that memory grows: at a million sentences, after a
   * re-index in the same process, the three made together set off seven collections back to back
   * (one scavenge took 37 ms), and the load stalled 118 to 180 ms.
   */
  static async create(manifest: Manifest, int8: boolean, terms?: Map<string, number>): Promise<MemoryIndexBuilder> {
    const { dimensions } = manifest.settings;
    const firstRows = firstRowsOf(manifest);
    const sentences = firstRows.sentences[manifest.sources.length]!;
    const chunks = firstRows.chunks[manifest.sources.length]!;
    const inTurn = async <T>(make: () => T): Promise<T> => {
      const made = make();
      await yieldToEventLoop();
      return made;
    };
    const parts: IndexParts = {
      sentences: await inTurn(() => new Array<SentenceRecord>(sentences)),
      chunks: await inTurn(() => new Array<ChunkRecord>(chunks)),
      sentenceVectors: await inTurn(() => emptyMatrix(sentences, dimensions, int8)),
      denseVectors: await inTurn(() => emptyMatrix(sentences, dimensions, int8)),
      chunkVectors: await inTurn(() => emptyMatrix(chunks, dimensions, int8)),
      chunkFrom: new Int32Array(sentences),
      chunkTo: new Int32Array(sentences),
      termCounts: terms ?? new Map(),
      tokens: new Map(),
    };
    return new MemoryIndexBuilder(manifest, parts, firstRows, terms);
  }

  private constructor(
    private readonly manifest: Manifest,
    private readonly parts: IndexParts,
    /** Per source of the manifest, the row its first sentence and first chunk take; one more entry holds the totals. */
    private readonly firstRows: FirstRows,
    /** The generation's summed keyword counts (the index takes the map over), when it keeps them; otherwise each shard's are added up. */
    private readonly terms?: Map<string, number>,
  ) {}

  /**
   * Where the shard of the manifest's `source`th source goes in this index's int8 matrices, for it
   * to be read straight into place (any source, in any order, before it is added).
   */
  rowsFor(source: number): ShardRows {
    const { parts, firstRows } = this;
    if (!(parts.sentenceVectors.codes instanceof Int8Array)) throw new RangeError('only an int8 index is read into place');
    const { sentences, chunks } = this.manifest.sources[source]!;
    return {
      sentenceVectors: rowsOf(parts.sentenceVectors, firstRows.sentences[source]!, sentences),
      denseVectors: rowsOf(parts.denseVectors, firstRows.sentences[source]!, sentences),
      chunkVectors: rowsOf(parts.chunkVectors, firstRows.chunks[source]!, chunks),
    };
  }

  /** Adds the next source's shard (named `name` in the store), in manifest order, prepared as `int8` says. */
  add(shard: PreparedShard, name?: string): void {
    const { parts } = this;
    const firstSentence = this.sentenceCount;
    const firstChunk = this.chunkCount;
    copyInto(parts.sentenceVectors, shard.sentenceVectors, firstSentence);
    copyInto(parts.denseVectors, shard.denseVectors, firstSentence);
    copyInto(parts.chunkVectors, shard.chunkVectors, firstChunk);
    shard.sentences.forEach((sentence, i) => {
      parts.sentences[firstSentence + i] = sentence;
    });
    if (shard.tokens !== undefined && shard.sentences.length > 0 && shard.sentences.every((sentence, i) => sentence.sentence === i)) {
      parts.tokens.set(shard.sentences[0]!.sourceId, shard.tokens);
    }
    shard.chunks.forEach((chunk, i) => {
      parts.chunks[firstChunk + i] = chunk;
    });
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
    if (name !== undefined) this.firstSentence.set(name, { first: firstSentence, count: shard.sentences.length });
    this.sentenceCount += shard.sentences.length;
    this.chunkCount += shard.chunks.length;
  }

  /** The index, searched through `ann` (a large generation's graph) when the graph holds every shard. */
  build(generation: string, fellBackTo?: { readonly generation: string; readonly reason: string }, ann?: AnnReader): MemoryIndex {
    if (this.sentenceCount !== this.parts.sentenceVectors.rows || this.chunkCount !== this.parts.chunkVectors.rows) {
      void ann?.close();
      throw new ShardFormatError(
        `the shards hold ${this.sentenceCount} sentences and ${this.chunkCount} chunks; the manifest says ${this.parts.sentenceVectors.rows} and ${this.parts.chunkVectors.rows}`,
      );
    }
    // A graph that misses any of this generation's shards would hide their sentences: the exact scan serves instead.
    const complete =
      ann !== undefined && this.firstSentence.size === this.manifest.sources.length && [...this.firstSentence.keys()].every((name) => ann.holds(name));
    const graph = complete ? { reader: ann, firstSentence: this.firstSentence } : undefined;
    if (!complete) void ann?.close();
    return new MemoryIndex(generation, this.manifest, { ...this.parts, ...(graph ? { graph } : {}) }, fellBackTo);
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
  private readonly tokens: Map<string, ShardTokens>;
  private readonly graph: Graph | undefined;

  /** How questions find their candidates: every sentence scored, or the closest ones the graph proposes. */
  get firstStage(): 'exact' | 'graph' {
    return this.graph ? 'graph' : 'exact';
  }

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
    this.tokens = parts.tokens;
    this.graph = parts.graph;
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
    const { positions, scores } = this.graph ? await this.candidates(this.graph, query, q) : { positions: undefined, scores: dotAll(this.denseVectors, q) };
    return topK(scores, k, positions ? (i) => keep(positions[i]!) : keep).map((i) => {
      const position = positions ? positions[i]! : i;
      const cosine = dotRow(this.sentenceVectors, position, q);
      return { sentence: this.sentences[position]!, cosine, contextCosine: scores[i]! - cosine, chunkCosine: this.chunkCosine(position, q) };
    });
  }

  /** The sentences the graph finds closest to the question, scored exactly. */
  private async candidates(graph: Graph, query: Float32Array, q: Float64Array): Promise<{ positions: Int32Array; scores: Float64Array }> {
    const found: number[] = [];
    for (const { shard, sentence } of await graph.reader.nearest(query, ANN_CANDIDATES)) {
      const place = graph.firstSentence.get(shard);
      if (place !== undefined && sentence < place.count) found.push(place.first + sentence);
    }
    const positions = Int32Array.from(found);
    const scores = Float64Array.from(positions, (position) => dotRow(this.denseVectors, position, q));
    return { positions, scores };
  }

  async keywordStats(terms: readonly string[]): Promise<KeywordStats> {
    return { sentences: this.sentences.length, frequencies: terms.map((term) => this.termCounts.get(term) ?? 0) };
  }

  /** Read from the shards' files: held in memory they would take about 12 KB a sentence. */
  async tokenVectors(sentences: readonly SentenceRecord[]): Promise<(VectorMatrix | undefined)[]> {
    const found = new Array<VectorMatrix | undefined>(sentences.length).fill(undefined);
    const bySource = new Map<string, number[]>();
    sentences.forEach((sentence, i) => {
      if (this.tokens.has(sentence.sourceId)) bySource.set(sentence.sourceId, [...(bySource.get(sentence.sourceId) ?? []), i]);
    });
    await Promise.all(
      [...bySource].map(async ([sourceId, wanted]) => {
        const { file, layout } = this.tokens.get(sourceId)!;
        // A generation retired after this one was loaded may have lost its files: those sentences
        // then have no pieces, and the question is ranked by the first pass alone.
        const handle = await open(file, 'r').catch(() => undefined);
        if (handle === undefined) return;
        try {
          const read = await readTokenVectors(
            handle,
            layout,
            wanted.map((i) => sentences[i]!.sentence),
          );
          wanted.forEach((i, j) => (found[i] = read[j]));
        } catch {
          // As above: a file cut short since is as good as gone.
        } finally {
          await handle.close();
        }
      }),
    );
    return found;
  }

  async close(): Promise<void> {
    await this.graph?.reader.close();
  }
}
