import type { Span } from './types.ts';

/** Paragraphs end at a blank line; a single line break is only wrapping. */
const PARAGRAPH_BREAK = /\r?\n[ \t]*\r?\n/g;

/** Markdown decorations that are not part of what a sentence says. */
const LEADING_MARKUP = /^(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)+/;

export function paragraphSpans(text: string, from = 0): Span[] {
  const spans: Span[] = [];
  let start = from;
  PARAGRAPH_BREAK.lastIndex = from;
  for (let match = PARAGRAPH_BREAK.exec(text); match; match = PARAGRAPH_BREAK.exec(text)) {
    spans.push({ start, end: match.index });
    start = match.index + match[0].length;
  }
  spans.push({ start, end: text.length });
  return spans.map((span) => trimSpan(text, span)).filter((span) => span.end > span.start);
}

/** Narrows a span to exclude surrounding whitespace and leading list/heading/quote markers. */
export function trimSpan(text: string, span: Span): Span {
  let { start, end } = span;
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  const markup = LEADING_MARKUP.exec(text.slice(start, end));
  if (markup) start += markup[0].length;
  return { start, end };
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Sentences of one paragraph, as exact spans of `text`.
 * Line breaks inside a paragraph are wrapping, not sentence ends, so they are read as spaces;
 * replacing one character by one keeps every offset valid.
 */
export function sentenceSpans(text: string, paragraph: Span): Span[] {
  const unwrapped = text.slice(paragraph.start, paragraph.end).replace(/[\r\n]/g, ' ');
  const spans: Span[] = [];
  for (const segment of segmenter.segment(unwrapped)) {
    const start = paragraph.start + segment.index;
    const span = trimSpan(text, { start, end: start + segment.segment.length });
    if (/[\p{L}\p{N}]/u.test(text.slice(span.start, span.end))) spans.push(span);
  }
  return spans;
}
