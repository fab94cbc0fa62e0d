import { describe, expect, it } from 'vitest';
import { ELLIPSIS, trimQuote, withEllipses } from '../../src/answer/trimQuote.ts';
import { terms } from '../../src/retrieval/terms.ts';

const SENTENCE =
  'Russia has consistently called for the return of six properties, including the Killenworth estate in New York and consulates in San Francisco and Seattle, which were seized by the U.S. between 2016 and 2018 amid allegations of Russian interference in the U.S. presidential election.';

function check(text: string, maxChars: number, query: string) {
  const span = trimQuote(text, maxChars, terms(query));
  const shown = withEllipses(text, span);
  expect(shown.length).toBeLessThanOrEqual(maxChars);
  expect(shown.startsWith(ELLIPSIS)).toBe(span.cutStart);
  expect(shown.endsWith(ELLIPSIS)).toBe(span.cutEnd);
  expect(span.cutStart).toBe(span.start > 0);
  expect(span.cutEnd).toBe(span.end < text.length);
  const inner = shown.slice(span.cutStart ? ELLIPSIS.length : 0, shown.length - (span.cutEnd ? ELLIPSIS.length : 0));
  expect(inner).toBe(text.slice(span.start, span.end));
  // Cut only between words: never inside a run of letters or digits.
  const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  if (span.cutStart) expect(isWordChar(text[span.start - 1]) && isWordChar(text[span.start])).toBe(false);
  if (span.cutEnd) expect(isWordChar(text[span.end - 1]) && isWordChar(text[span.end])).toBe(false);
  expect(inner).toBe(inner.trim());
  return { span, shown };
}

describe('trimQuote', () => {
  it('leaves text that fits untouched', () => {
    const text = 'Short sentence about embassies.';
    expect(trimQuote(text, text.length, ['embassi'])).toEqual({ start: 0, end: text.length, cutStart: false, cutEnd: false });
    expect(withEllipses(text, trimQuote(text, 400, []))).toBe(text);
  });

  it('trims long text to maxChars, marks included, at word boundaries', () => {
    for (const maxChars of [30, 57, 80, 120, 200, SENTENCE.length - 1]) {
      const { span, shown } = check(SENTENCE, maxChars, 'diplomatic properties');
      expect(span.cutStart || span.cutEnd).toBe(true);
      // It uses the room it has: no more than one more word would have fitted.
      expect(shown.length).toBeGreaterThan(maxChars - 16);
    }
  });

  it('centres the window on the query terms', () => {
    const late = check(SENTENCE, 80, 'Which election saw Russian interference?');
    expect(late.span.cutStart).toBe(true);
    expect(late.shown).toMatch(/interference/);
    expect(late.shown).toMatch(/election/);

    const early = check(SENTENCE, 80, 'What did Russia call for the return of?');
    expect(early.span.cutStart).toBe(false);
    expect(early.shown).toMatch(/^Russia has consistently called for the return/);

    const middle = check(SENTENCE, 80, 'Killenworth estate consulates San Francisco Seattle');
    expect(middle.span.cutStart).toBe(true);
    expect(middle.span.cutEnd).toBe(true);
    for (const word of ['Killenworth', 'consulates', 'San Francisco', 'Seattle']) expect(middle.shown).toContain(word);
  });

  it('matches query terms by stem, not by exact word', () => {
    const { shown } = check(SENTENCE, 70, 'Seizing');
    expect(shown).toMatch(/seized/);
    expect(shown.startsWith(ELLIPSIS)).toBe(true);
  });

  it('keeps the start of the text when no query term occurs', () => {
    const { span } = check(SENTENCE, 60, 'zeppelin');
    expect(span.start).toBe(0);
    expect(span.cutStart).toBe(false);
    expect(span.cutEnd).toBe(true);
  });

  it('cuts a single over-long word hard rather than return nothing', () => {
    const word = 'x'.repeat(120);
    const span = trimQuote(word, 80, []);
    expect(span).toMatchObject({ start: 0, cutStart: false, cutEnd: true });
    expect(withEllipses(word, span).length).toBe(80);
  });
});

describe('withEllipses', () => {
  it('adds a mark on each cut side only', () => {
    expect(withEllipses('abc def ghi', { start: 4, end: 7, cutStart: true, cutEnd: true })).toBe('…def…');
    expect(withEllipses('abc def ghi', { start: 0, end: 7, cutStart: false, cutEnd: true })).toBe('abc def…');
    expect(withEllipses('abc def ghi', { start: 4, end: 11, cutStart: true, cutEnd: false })).toBe('…def ghi');
  });
});
