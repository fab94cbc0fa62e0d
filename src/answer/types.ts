/** A verbatim excerpt: `text`, less any leading/trailing `…`, is exactly `file.slice(start, end)`. */
export interface Quote {
  readonly text: string;
  readonly source: {
    readonly id: string;
    readonly title: string;
    /** The file the offsets point into: the article, or the Markdown Docent stored for a converted one. */
    readonly path: string;
    readonly date?: string;
    readonly url?: string;
    /** For a converted web page, PDF or Word file: that file. */
    readonly original?: string;
  };
  readonly start: number;
  readonly end: number;
  /** 1-based line of the source file where the quote starts. */
  readonly line: number;
  /** For a PDF: the page the quote starts on. */
  readonly page?: number;
  /**
   * Where a reader can open the article at the quote, when the source has a `url`: for a web page,
   * with a text fragment that scrolls to and highlights the quote; for a PDF, at its page.
   */
  readonly link?: string;
  /** Retrieval score; higher is better, comparable only within one answer. */
  readonly score: number;
}

export type NoQuotesReason = 'not-covered' | 'no-more-quotes' | 'empty-question';

export interface Answer {
  readonly question: string;
  readonly answered: boolean;
  /**
   * On answered questions: `high` when the best quote is judged to answer the question, `low`
   * when the quotes are the closest passages but may not answer it directly.
   */
  readonly confidence?: 'high' | 'low';
  readonly quotes: Quote[];
  /**
   * Why there are no quotes: `not-covered` when nothing in the sources is related to the
   * question, `no-more-quotes` when a later page was asked for and there is none,
   * `empty-question` when there was nothing to ask. Front ends
   * put it in their own words.
   */
  readonly reason?: NoQuotesReason;
  /** More quotes are available past these (asking again with a larger offset returns them). */
  readonly hasMore: boolean;
}

export interface AskOptions {
  /** Skip this many of the best quotes; "More quotes" pages with it. */
  readonly offset?: number;
}
