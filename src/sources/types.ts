/** What names and cites a source: read from its file, and kept for it in the index's manifest (`IndexedSource`). */
export interface SourceMetadata {
  /** Stable identity: the path relative to the sources folder, with forward slashes. */
  readonly id: string;
  /** Path as the user would type it (relative to the working directory when possible). */
  readonly path: string;
  readonly title: string;
  readonly date?: string;
  readonly outlet?: string;
  readonly url?: string;
  /** For a converted web page, PDF or Word file: that file, while `path` is the Markdown Docent stored for it. */
  readonly original?: string;
  /** For a converted PDF: where each page starts in the stored text (`SourceDocument.text`), page 1 first. */
  readonly pageStarts?: readonly number[];
  /** sha256 of the stored text, used to tell changed sources from unchanged ones. */
  readonly hash: string;
}

/** One source article, as read from disk and normalised. */
export interface SourceDocument extends SourceMetadata {
  /** The whole file as decoded and NFC-normalised; every offset in Docent points into this. */
  readonly text: string;
  /** Where the body starts, after any front matter. */
  readonly bodyStart: number;
}

/** A file that could not be used, and why, in words an admin can act on. */
export interface SourceProblem {
  /** The file's id; for a folder that cannot be read, its path with a trailing `/`. */
  readonly id: string;
  readonly path: string;
  readonly reason: string;
  /** Set for a folder: every source under it keeps its previous version. */
  readonly folder?: true;
}

export interface LoadedSources {
  readonly documents: SourceDocument[];
  readonly problems: SourceProblem[];
}
