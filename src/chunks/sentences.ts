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
 * ICU's segmentation time grows with the square of the text it is given (8,000 short sentences in
 * one string take 5 s, 16,000 take 17 s), and a text file without blank lines is one paragraph. So
 * it is given a window at a time, and at most a bounded number of segments is read from each.
 * Where a window ends, the last segment may have been cut short, and so may the end of the one
 * before it: whether "c. 1220 m" ends a sentence at "c." depends on whether a lowercase letter
 * follows the number, which can lie past the window's end. So a segment is kept only once two more
 * have begun after it, and the next window starts where the first one not kept began. A window in
 * which no segment could be kept (a very long sentence) is doubled until one can.
 */
const SEGMENT_WINDOW = 4096;
const SEGMENTS_PER_WINDOW = 128;

interface Segment {
  index: number;
  segment: string;
}

/** ICU's sentence segments of `text`, as whole-text segmentation gives them, found a window at a time. */
export function* icuSentences(text: string, window = SEGMENT_WINDOW): Generator<Segment> {
  let offset = 0;
  let size = window;
  while (offset < text.length) {
    const end = Math.min(text.length, offset + size);
    const unsure: Segment[] = [];
    let kept = 0;
    for (const { index, segment } of segmenter.segment(text.slice(offset, end))) {
      unsure.push({ index: offset + index, segment });
      if (unsure.length > 2) {
        yield unsure.shift()!;
        if (++kept === SEGMENTS_PER_WINDOW) break;
      }
    }
    if (end === text.length && kept < SEGMENTS_PER_WINDOW) {
      yield* unsure;
      return;
    }
    if (kept === 0) {
      size *= 2;
      continue;
    }
    offset = unsure[0]!.index;
    size = window;
  }
}

/**
 * ICU ends a sentence at "the U.S. State Department" or "Dr. Smith": a period followed by a
 * capital. After an initialism or a title that almost never ends a sentence, so the segments are
 * joined again (a real sentence end after "U.S." then only makes one quote a little longer).
 */
const ABBREVIATION_AT_END = /(?<![\p{L}\p{N}.])(?:(?:\p{Lu}\.){2,}|(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|Capt|Sgt)\.)\s*$/u;

/**
 * ICU also ends a sentence at a middle initial: "President John F. | Kennedy", "economist E. | F. |
 * Schumacher". A capital and a period is read as an initial when a name or another initial comes
 * just before it, or another initial comes next; "vitamin A.", "33° S." and "World War I." still
 * end their sentences (a name before a letter, "Plan B.", joins one sentence too many).
 */
const INITIAL_AFTER_NAME = /(?:^|[\s("“])(?:\p{Lu}[\p{Ll}'’-]+|\p{Lu}\.)\s+(?![IVX]\.)\p{Lu}\.\s*$/u;
const INITIAL_AT_END = /(?:^|[\s("“])\p{Lu}\.\s*$/u;
const INITIAL_AT_START = /^\p{Lu}\.\s/u;

/** Whether ICU's sentence end after `before` falls inside a name written with initials, `next` being the segment after. */
const endsAtInitial = (before: string, next: string) => INITIAL_AFTER_NAME.test(before) || (INITIAL_AT_END.test(before) && INITIAL_AT_START.test(next));

/** ICU also ends a sentence at the "!" of a chat mention written out, `<@!123…>`: never a sentence end. */
const MENTION_START_AT_END = /<@!\s*$/;

/** A line that is a block of its own even without a blank line around it. */
const BLOCK_LINE = /^[ \t]*(?:#{1,6}[ \t]|[-*+][ \t]|\d+[.)][ \t])/;
const HEADING_LINE = /^[ \t]*#{1,6}[ \t]/;
const QUOTE_LINE = /^[ \t]*>/;
/** An HTML comment on its own (a converted PDF's page marker): invisible in Markdown, so never quoted. */
const COMMENT_BLOCK = /^<!--[\s\S]*?-->$/;

/** The whole line of `text` that contains `offset`. */
function lineAt(text: string, offset: number): string {
  const end = text.indexOf('\n', offset);
  return text.slice(text.lastIndexOf('\n', offset - 1) + 1, end === -1 ? text.length : end);
}

/**
 * Splits a paragraph before each list item, heading or start of a quote and after each heading:
 * "# Title\nText" or "- apples\n- pears" are separate units, though no period ends them.
 * Heading lines are left out.
 */
function blockSpans(text: string, paragraph: Span): Span[] {
  const blocks: Span[] = [];
  let blockStart = paragraph.start;
  let afterHeading = false;
  let inQuote = false;
  for (let lineStart = paragraph.start; lineStart < paragraph.end; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 || newline >= paragraph.end ? paragraph.end : newline + 1;
    // The paragraph's own leading markup is already trimmed off, so look from the line's real start.
    const line = lineAt(text, lineStart);
    const quote = QUOTE_LINE.test(line);
    if (lineStart > blockStart && (afterHeading || BLOCK_LINE.test(line) || (quote && !inQuote))) {
      blocks.push({ start: blockStart, end: lineStart });
      blockStart = lineStart;
    }
    afterHeading = HEADING_LINE.test(line);
    inQuote = quote;
    lineStart = lineEnd;
  }
  blocks.push({ start: blockStart, end: paragraph.end });
  // Headings name a topic but answer nothing; quoting one would cite a title as if it were a fact.
  const prose = blocks.filter((block) => !HEADING_LINE.test(lineAt(text, block.start)) && !COMMENT_BLOCK.test(text.slice(block.start, block.end).trim()));
  // Each block loses its own leading marker ("- ", "1. "), which the segmenter would otherwise split off.
  return prose.map((block) => trimSpan(text, block)).filter((block) => block.end > block.start);
}

/**
 * Hard-wrapped text keeps every line short; a line longer than this shows that the author does
 * not wrap, so each line break in that block was typed on purpose (one sentence, caption or
 * list entry a line, as in exported wikis) and ends what precedes it.
 */
const LONGEST_WRAPPED_LINE = 100;

function lineSpans(text: string, block: Span): Span[] {
  const lines: Span[] = [];
  for (let start = block.start; start < block.end; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 || newline >= block.end ? block.end : newline;
    lines.push(trimSpan(text, { start, end }));
    start = end + 1;
  }
  return lines.filter((line) => line.end > line.start);
}

function unitSpans(text: string, block: Span): Span[] {
  const lines = lineSpans(text, block);
  return lines.some((line) => line.end - line.start > LONGEST_WRAPPED_LINE) ? lines : [block];
}

/**
 * ICU's sentence segments of `text`, each with the text of the segments before and after it (a name
 * before an initial is at most one segment back). Streamed, one segment ahead, so a long paragraph's
 * segments are never all held at once.
 */
function* segmentsOf(text: string): Generator<{ index: number; text: string; previous: string; next: string }> {
  let previous = '';
  let held: { index: number; text: string } | undefined;
  for (const { index, segment } of icuSentences(text)) {
    if (held) {
      yield { ...held, previous, next: segment };
      previous = held.text;
    }
    held = { index, text: segment };
  }
  if (held) yield { ...held, previous, next: '' };
}

/**
 * Sentences of one paragraph, as exact spans of `text`.
 * In hard-wrapped text a line break is wrapping, not a sentence end, so it is read as a space;
 * replacing one character by one keeps every offset valid.
 */
export function sentenceSpans(text: string, paragraph: Span): Span[] {
  const spans: Span[] = [];
  for (const block of blockSpans(text, paragraph).flatMap((span) => unitSpans(text, span))) {
    const unwrapped = text.slice(block.start, block.end).replace(/[\r\n]/g, ' ');
    let pending: number | undefined;
    for (const segment of segmentsOf(unwrapped)) {
      const start = pending ?? block.start + segment.index;
      const end = block.start + segment.index + segment.text.length;
      const joinsNext =
        ABBREVIATION_AT_END.test(segment.text) || MENTION_START_AT_END.test(segment.text) || endsAtInitial(segment.previous + segment.text, segment.next);
      if (end < block.end && joinsNext) {
        pending = start;
        continue;
      }
      pending = undefined;
      const span = trimSpan(text, { start, end });
      if (/[\p{L}\p{N}]/u.test(text.slice(span.start, span.end))) spans.push(span);
    }
  }
  return spans;
}
