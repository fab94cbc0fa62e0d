import matter from 'gray-matter';
import TurndownService from 'turndown';

/** What a converter learned about a document besides its text; each becomes a front matter key. */
export interface DocumentMetadata {
  readonly title?: string;
  readonly date?: string;
  readonly author?: string;
  readonly url?: string;
  /** The kind of file the Markdown was converted from: `html`, `pdf` or `docx`. */
  readonly format?: 'html' | 'pdf' | 'docx';
}

/**
 * The Markdown file Docent stores for a converted document: front matter, then the body. This is
 * the text quotes are cut from, so it is written once and read back like any other article.
 */
export function markdownFile(metadata: DocumentMetadata, body: string): string {
  const data = Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined && value !== ''));
  return matter.stringify(`${body.trim()}\n`, data);
}

/** One HTML-to-Markdown converter for web pages and Word files: ATX headings, `-` bullets, fenced code. */
export function htmlToMarkdown(html: string): string {
  const turndown = new TurndownService({ headingStyle: 'atx', bulletListMarker: '-', codeBlockStyle: 'fenced', emDelimiter: '*' });
  // Images and scripts say nothing quotable; their alt text would land in sentences as noise.
  turndown.remove(['script', 'style', 'noscript', 'img', 'iframe', 'svg' as 'script']);
  // Quotes are cut from this text: emphasis and link markup would show as stray ** and ](…) in them.
  turndown.addRule('plain inline text', { filter: ['strong', 'b', 'em', 'i', 'a', 'span', 'u'], replacement: (content) => content });
  return turndown.turndown(html).replace(/\n{3,}/g, '\n\n');
}

/** A `YYYY-MM-DD` day from whatever date text a page or file carries, or undefined when there is none. */
export function dayOf(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  // PDF dates look like D:20250410093000Z.
  const pdf = /^D:(\d{4})(\d{2})(\d{2})/.exec(value);
  if (pdf) return `${pdf[1]}-${pdf[2]}-${pdf[3]}`;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString().slice(0, 10);
}
