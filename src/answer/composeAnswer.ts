import type { SearchIndex } from '../retrieval/searchIndex.ts';
import type { SearchResult } from '../retrieval/search.ts';
import { coversQuestion, DEFAULT_THRESHOLDS, evidenceOf, type DeclineThresholds } from './decide.ts';
import { trimQuote, withEllipses } from './trimQuote.ts';
import type { Answer, Quote } from './types.ts';

export interface ComposeOptions {
  readonly maxQuotes: number;
  readonly maxQuoteChars: number;
  readonly offset?: number;
  readonly thresholds?: DeclineThresholds;
}

/** "More quotes" stops where candidates score under half the best: past that they are rarely on the question. */
const MIN_SHARE_OF_BEST = 0.5;

export const NOT_COVERED = 'The sources do not cover this question.';

function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** Turns ranked sentences into an answer: verbatim, cited quotes, or a plain "not covered". */
export function composeAnswer(question: string, result: SearchResult, index: SearchIndex, options: ComposeOptions): Answer {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  if (!coversQuestion(evidenceOf(result.ranked), thresholds)) {
    return { question, answered: false, quotes: [], reason: NOT_COVERED, hasMore: false };
  }
  const offset = options.offset ?? 0;
  const best = result.ranked[0]?.score ?? 0;
  const quotable = result.ranked.filter((entry) => entry.score >= MIN_SHARE_OF_BEST * best);
  const page = quotable.slice(offset, offset + options.maxQuotes);
  const quotes = page.map(({ sentence, score }): Quote => {
    const source = index.sources.get(sentence.sourceId);
    const span = trimQuote(sentence.text, options.maxQuoteChars, result.queryTerms);
    return {
      text: withEllipses(sentence.text, span),
      source: { id: sentence.sourceId, title: source?.title ?? sentence.sourceId, path: source?.path ?? sentence.sourceId, ...(source?.date ? { date: source.date } : {}) },
      start: sentence.start + span.start,
      end: sentence.start + span.end,
      line: sentence.line + countNewlines(sentence.text, span.start),
      score: Number(score.toFixed(6)),
    };
  });
  const hasMore = offset + options.maxQuotes < quotable.length;
  if (quotes.length === 0) return { question, answered: true, quotes, reason: 'There are no more quotes for this question.', hasMore: false };
  return { question, answered: true, quotes, hasMore };
}
