import type { IndexSettings, Manifest } from './manifest.ts';
import type { VectorMatrix } from './vectorMath.ts';

/**
 * The seam between building an index and searching it. A store keeps generations of the index:
 * readers use the current one while a writer builds the next, which becomes current in one
 * atomic step. Retrieval sees only `IndexReader`; which backend holds the vectors (Vectra files
 * on this machine, or PostgreSQL with pgvector) is chosen once, in `openStore`.
 */

/** A chunk: the paragraph-sized window whose vector says what the sentences around a quote are about. */
export interface ChunkRecord {
  readonly sourceId: string;
  readonly chunk: number;
  /** Offsets into the source file's text. */
  readonly start: number;
  readonly end: number;
  readonly firstSentence: number;
  readonly lastSentence: number;
  readonly text: string;
}

/** A sentence: what quotes are made of. */
export interface SentenceRecord {
  readonly sourceId: string;
  readonly sentence: number;
  /** Offsets into the source file's text. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of the file where the sentence starts. */
  readonly line: number;
  readonly text: string;
  /** Named entities, numbers and dates in the sentence, as `answerTypes.entityMentions` writes them. */
  readonly entities: string;
}

/** Everything indexed for one source, with its vectors. */
export interface SourceItems {
  readonly sourceId: string;
  readonly chunks: readonly { readonly record: ChunkRecord; readonly vector: Float32Array }[];
  /**
   * Each sentence has two vectors: the sentence alone, and the sentence read in its article's
   * context (`title. sentence`), so a line that never names its topic is still found.
   */
  readonly sentences: readonly {
    readonly record: SentenceRecord;
    readonly vector: Float32Array;
    readonly context: Float32Array;
    /** The sentence's word-piece vectors, row after row (`Embedder.embedWithTokens`). */
    readonly tokens?: Float32Array;
  }[];
  /** For each keyword stem, how many of the source's sentences hold it (for IDF). */
  readonly termCounts: Readonly<Record<string, number>>;
}

/** A first-stage candidate: one sentence with its cosines to the question. */
export interface DenseHit {
  readonly sentence: SentenceRecord;
  /** Cosine to the sentence alone. */
  readonly cosine: number;
  /** Cosine to the sentence in context (`title. sentence`). */
  readonly contextCosine: number;
  /** Best cosine to a chunk holding the sentence. */
  readonly chunkCosine: number;
}

export interface KeywordStats {
  /** Sentences in the generation. */
  readonly sentences: number;
  /** For each asked term, in order, how many sentences hold it. */
  readonly frequencies: readonly number[];
}

/** Leaves sentences out of a search as if they were not indexed (the fitting script masks answers with it). */
export type SentenceFilter = (sentence: SentenceRecord) => boolean;

/** One generation, open for questions. */
export interface IndexReader {
  /** Names the generation, so a front end can tell when another process published a newer one. */
  readonly generation: string;
  readonly manifest: Manifest;
  /** Set when the current generation could not be read and an earlier one serves instead. */
  readonly fellBackTo?: { readonly generation: string; readonly reason: string };
  readonly sources: ReadonlyMap<string, Manifest['sources'][number]>;
  /**
   * The `k` sentences with the highest sum of sentence and context cosine to `query` (a unit
   * vector), best first, leaving out those `exclude` rejects.
   */
  nearest(query: Float32Array, k: number, exclude?: SentenceFilter): Promise<DenseHit[]>;
  keywordStats(terms: readonly string[]): Promise<KeywordStats>;
  /** Each sentence's word-piece vectors, or undefined where there are none to read (written without, or their files gone since). */
  tokenVectors(sentences: readonly SentenceRecord[]): Promise<(VectorMatrix | undefined)[]>;
  close(): Promise<void>;
}

/** Builds one new generation; nothing of it is visible until `commit`. */
export interface GenerationWriter {
  /** Takes a source of the current generation over unchanged, by reference: nothing is re-read or re-written. */
  carryOver(sourceId: string): Promise<void>;
  put(items: SourceItems): Promise<void>;
  /** Makes the generation current in one atomic step, then retires generations no reader needs. */
  commit(manifest: Manifest): Promise<void>;
  /** Discards what was written. */
  abort(): Promise<void>;
}

export interface IndexStore {
  /** Where the index lives, for messages (a folder, or a database without its password). */
  readonly location: string;
  /** The current generation's name, or undefined when nothing was ever built; cheap enough to ask per question. */
  currentGeneration(): Promise<string | undefined>;
  /** The current generation's manifest; throws when it exists but cannot be read. */
  readManifest(): Promise<Manifest | undefined>;
  /** Opens the current generation for questions, or undefined when nothing was ever built. */
  open(): Promise<IndexReader | undefined>;
  /** Runs `work` as the only writer of this index; a second one fails at once with IndexBusyError. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Removes what an interrupted writer left behind (call inside `exclusive`). */
  tidy(): Promise<void>;
  /** Starts a new generation (call inside `exclusive`). */
  begin(settings: IndexSettings): Promise<GenerationWriter>;
  close(): Promise<void>;
}

/** No generation of the index can be read (each is damaged or incomplete); it must be rebuilt. */
export class IndexUnreadableError extends Error {
  override name = 'IndexUnreadableError';
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`The index in ${location} cannot be read: ${reason}`);
  }
}

/** Gives the event loop a turn, so a long loop does not stall answers, heartbeats or lock refreshes. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How long a loop on the answering thread runs between turns it gives the event loop (`turnsOf`). */
export const TURN_MS = 5;

/**
 * For a long loop on the answering thread: call the result once a step and await it; it gives the
 * event loop a turn once `turnMs` have passed since the last, and otherwise returns at once.
 */
export function turnsOf(turnMs: number): () => Promise<void> | undefined {
  let began = performance.now();
  return () => {
    if (performance.now() - began < turnMs) return undefined;
    return yieldToEventLoop().then(() => {
      began = performance.now();
    });
  };
}
