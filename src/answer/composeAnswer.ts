import type { IndexedSource } from '../index/manifest.ts';
import type { SearchResult } from '../retrieval/search.ts';
import { pageAt } from '../sources/pages.ts';
import { decide, evidenceOf, type DecisionModels } from './decide.ts';
import { quoteLink } from './links.ts';
import { trimQuote, withEllipses } from './trimQuote.ts';
import type { Answer, Quote } from './types.ts';

export interface QuoteOptions {
  readonly maxQuotes: number;
  readonly maxQuoteChars: number;
  readonly offset?: number;
}

export interface ComposeOptions extends QuoteOptions {
  readonly decision: DecisionModels;
}

/**
 * The ranker is a conditional logit, so a score difference is a log-odds ratio. The first page is
 * always full; "More quotes" pages through the ranked sentences (the re-ranked 10, `RERANKED`) and
 * stops at candidates about 150 times (e⁵) less likely than the best to be the answer: past that
 * they are rarely on the question.
 */
const MAX_SCORE_DROP = 5;

/** Line breaks (LF, CRLF or a lone CR) in `text` before `end`. */
function countNewlines(text: string, end: number): number {
  return (text.slice(0, end).match(/\r\n|\r|\n/g) ?? []).length;
}

/** The ranked sentences from `offset` on as verbatim, cited quotes, trimmed to the length limit. */
export function quotesFor(result: SearchResult, sources: ReadonlyMap<string, IndexedSource>, options: QuoteOptions): { quotes: Quote[]; hasMore: boolean } {
  const offset = options.offset ?? 0;
  const best = result.ranked[0]?.score ?? 0;
  const quotable = result.ranked.filter((entry, rank) => rank < options.maxQuotes || entry.score >= best - MAX_SCORE_DROP);
  const page = quotable.slice(offset, offset + options.maxQuotes);
  const quotes = page.map(({ sentence, score }): Quote => {
    const source = sources.get(sentence.sourceId);
    const span = trimQuote(sentence.text, options.maxQuoteChars, result.queryTerms);
    const start = sentence.start + span.start;
    const page = pageAt(source?.pageStarts, start);
    const link = source?.url ? quoteLink(source.url, sentence.text.slice(span.start, span.end), page) : undefined;
    return {
      text: withEllipses(sentence.text, span),
      source: {
        id: sentence.sourceId,
        title: source?.title ?? sentence.sourceId,
        path: source?.path ?? sentence.sourceId,
        ...(source?.date ? { date: source.date } : {}),
        ...(source?.url ? { url: source.url } : {}),
        ...(source?.original ? { original: source.original } : {}),
      },
      start,
      end: sentence.start + span.end,
      line: sentence.line + countNewlines(sentence.text, span.start),
      ...(page !== undefined ? { page } : {}),
      ...(link !== undefined ? { link } : {}),
      score: Number(score.toFixed(6)),
    };
  });
  return { quotes, hasMore: offset + options.maxQuotes < quotable.length };
}

/**
 * Turns ranked sentences into an answer: verbatim, cited quotes with a confidence, or no quotes
 * and the reason why (nothing in the sources is related).
 */
export function composeAnswer(question: string, result: SearchResult, sources: ReadonlyMap<string, IndexedSource>, options: ComposeOptions): Answer {
  const decision = decide(evidenceOf(result), options.decision);
  if (decision.kind === 'decline') return { question, answered: false, quotes: [], reason: 'not-covered', hasMore: false };
  const { quotes, hasMore } = quotesFor(result, sources, options);
  if (quotes.length === 0) return { question, answered: true, confidence: decision.confidence, quotes, reason: 'no-more-quotes', hasMore: false };
  return { question, answered: true, confidence: decision.confidence, quotes, hasMore };
}
