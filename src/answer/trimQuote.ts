import { wordSpans } from '../retrieval/terms.ts';
import type { Span } from '../chunks/types.ts';

export const ELLIPSIS = '…';

export interface TrimmedSpan extends Span {
  /** The quote starts after the sentence's start, so it is shown with a leading ellipsis. */
  readonly cutStart: boolean;
  readonly cutEnd: boolean;
}

/**
 * The part of `text` (at most `maxChars` long, ellipses included) that holds the most query
 * terms, cut only at word boundaries. Offsets are relative to `text`.
 */
export function trimQuote(text: string, maxChars: number, queryTerms: readonly string[]): TrimmedSpan {
  if (text.length <= maxChars) return { start: 0, end: text.length, cutStart: false, cutEnd: false };
  const words = wordSpans(text);
  const wanted = new Set(queryTerms);
  let best: TrimmedSpan | undefined;
  let bestHits = -1;
  for (let first = 0; first < words.length; first++) {
    const start = first === 0 ? 0 : words[first]!.start;
    let last = first;
    let hits = 0;
    const seen = new Set<string>();
    let window: TrimmedSpan | undefined;
    for (let next = first; next < words.length; next++) {
      const isLast = next === words.length - 1;
      const end = isLast ? text.length : words[next]!.end;
      const length = end - start + (first > 0 ? 1 : 0) + (isLast ? 0 : 1);
      if (length > maxChars) break;
      last = next;
      const term = words[next]!.term;
      if (term && wanted.has(term) && !seen.has(term)) {
        seen.add(term);
        hits++;
      }
      window = { start, end, cutStart: first > 0, cutEnd: !isLast };
    }
    if (window && hits > bestHits) {
      best = window;
      bestHits = hits;
    }
    if (last === words.length - 1) break;
  }
  // A single word longer than the limit: cut it hard rather than return nothing.
  return best ?? { start: 0, end: maxChars - 1, cutStart: false, cutEnd: true };
}

export function withEllipses(text: string, span: TrimmedSpan): string {
  return `${span.cutStart ? ELLIPSIS : ''}${text.slice(span.start, span.end)}${span.cutEnd ? ELLIPSIS : ''}`;
}
