import type { Answer, NoQuotesReason } from '../docent.ts';

/** Said before the quotes of a low-confidence answer. */
export const LOW_CONFIDENCE = 'These are the closest passages; they may not answer this directly.';

const NO_QUOTES: Record<NoQuotesReason, string> = {
  'not-covered': 'The sources do not cover this question.',
  'no-more-quotes': 'There are no more quotes for this question.',
  'empty-question': 'The question is empty.',
};

/**
 * Source text made safe for a terminal: control characters (an escape sequence could recolour
 * or rewrite the screen) are shown as U+FFFD; line breaks and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
}

/** The --json shape: exactly the fields promised in the README. */
export function answerJson(answer: Answer): object {
  return {
    question: answer.question,
    answered: answer.answered,
    ...(answer.confidence ? { confidence: answer.confidence } : {}),
    quotes: answer.quotes.map((quote) => ({
      text: quote.text,
      source: { id: quote.source.id, title: quote.source.title, path: quote.source.path },
      start: quote.start,
      end: quote.end,
      line: quote.line,
      score: quote.score,
    })),
    ...(answer.reason ? { reason: NO_QUOTES[answer.reason] } : {}),
  };
}

export function answerText(answer: Answer): string {
  if (!answer.answered || answer.quotes.length === 0) return NO_QUOTES[answer.reason ?? 'not-covered'];
  const quotes = answer.quotes.map((quote, i) => `[${i + 1}] “${printable(quote.text)}”`).join('\n\n');
  const sources = answer.quotes
    .map((quote, i) => `[${i + 1}] ${printable(quote.source.title)} — ${printable(quote.source.path)}, line ${quote.line}`)
    .join('\n');
  return `${answer.confidence === 'low' ? `${LOW_CONFIDENCE}\n\n` : ''}${quotes}\n\nSources:\n${sources}`;
}
