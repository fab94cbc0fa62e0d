/** A span of a source document's text: `text.slice(start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A run of whole sentences from one paragraph, small enough for the embedding model to read in full. */
export interface Chunk extends Span {
  readonly sourceId: string;
  /** Position of the chunk within its source, from 0. */
  readonly index: number;
  /** Indexes into the source's sentence list. */
  readonly firstSentence: number;
  readonly lastSentence: number;
}

export interface ChunkedSource {
  readonly sentences: Span[];
  readonly chunks: Chunk[];
}

export interface ChunkOptions {
  /** Word pieces the model reads, including its two special tokens. */
  readonly maxTokens: number;
  readonly overlapSentences: number;
  readonly countTokens: (text: string) => number;
}
