/**
 * Links that open an article at a quote. A web page gets a text fragment (`#:~:text=`, supported
 * by Chromium browsers and Safari; others open the page at its top); a PDF gets `#page=N`, which
 * browsers' PDF viewers follow.
 */

/** Words at either end of a long quote: enough to be unique on a page, short enough for a link. */
const EDGE_WORDS = 6;

/** Characters with a meaning inside a text directive (`,` `-` `&`) must be escaped besides the usual ones. */
function directivePart(text: string): string {
  return encodeURIComponent(text).replace(/-/g, '%2D').replace(/,/g, '%2C').replace(/&/g, '%26');
}

/**
 * `#:~:text=start,end` for a quote (`#:~:text=whole quote` when it is short). Markdown emphasis is
 * dropped and whitespace collapsed, since the browser matches the page's rendered text.
 */
export function textFragment(quote: string): string {
  const words = quote
    .replace(/[*_`]+/g, '')
    .split(/\s+/)
    .filter((word) => word !== '');
  if (words.length <= EDGE_WORDS * 2) return `:~:text=${directivePart(words.join(' '))}`;
  return `:~:text=${directivePart(words.slice(0, EDGE_WORDS).join(' '))},${directivePart(words.slice(-EDGE_WORDS).join(' '))}`;
}

/** Where the quote can be read in the original: undefined when the source has no http(s) address. */
export function quoteLink(url: string, quote: string, page?: number): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  parsed.hash = '';
  return `${parsed.href}#${page !== undefined ? `page=${page}` : textFragment(quote)}`;
}
