/**
 * Marks where a PDF page begins in the Markdown Docent stores for it. It is an HTML comment, so
 * Markdown viewers hide it and the chunker leaves it out of quotes; a citation counts the markers
 * before a quote to name its page.
 */
export const pageMarker = (page: number) => `<!-- page ${page} -->`;

const PAGE_MARKER = /^<!-- page \d+ -->$/gm;

/** Where each page starts in a stored text (offsets of the markers), page 1 first; empty for a text without pages. */
export function pageStarts(text: string): number[] {
  return [...text.matchAll(PAGE_MARKER)].map((match) => match.index);
}

/** The 1-based page holding `offset`, or undefined for a text without pages. */
export function pageAt(starts: readonly number[] | undefined, offset: number): number | undefined {
  if (!starts || starts.length === 0) return undefined;
  let page = 1;
  for (let i = 0; i < starts.length && starts[i]! <= offset; i++) page = i + 1;
  return page;
}
