import type { Answer, GapReport, IndexedSource, NoQuotesReason, Quote } from '../docent.ts';

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
      source: {
        id: quote.source.id,
        title: quote.source.title,
        path: quote.source.path,
        ...(quote.source.url ? { url: quote.source.url } : {}),
        ...(quote.source.original ? { original: quote.source.original } : {}),
      },
      start: quote.start,
      end: quote.end,
      line: quote.line,
      ...(quote.page !== undefined ? { page: quote.page } : {}),
      ...(quote.link ? { link: quote.link } : {}),
      score: quote.score,
    })),
    ...(answer.reason ? { reason: NO_QUOTES[answer.reason] } : {}),
  };
}

/** Title, file and line (page for a PDF); the link to the quote on its own line when the source has an address. */
function citation(quote: Quote): string {
  const where = quote.page !== undefined ? `${quote.source.original ?? quote.source.path}, page ${quote.page}` : `${quote.source.path}, line ${quote.line}`;
  return `${printable(quote.source.title)} — ${printable(where)}${quote.link ? `\n    ${printable(quote.link)}` : ''}`;
}

export function answerText(answer: Answer): string {
  if (!answer.answered || answer.quotes.length === 0) return NO_QUOTES[answer.reason ?? 'not-covered'];
  const quotes = answer.quotes.map((quote, i) => `[${i + 1}] “${printable(quote.text)}”`).join('\n\n');
  const sources = answer.quotes.map((quote, i) => `[${i + 1}] ${citation(quote)}`).join('\n');
  return `${answer.confidence === 'low' ? `${LOW_CONFIDENCE}\n\n` : ''}${quotes}\n\nSources:\n${sources}`;
}

/** What `docent add` prints: the title, how much was indexed, and one sentence as Docent read it. */
export function addedText(source: IndexedSource, sample: string | undefined): string {
  return [
    `Added ${printable(source.title)} as ${source.id}: ${source.chunks} chunks, ${source.sentences} sentences.`,
    ...(sample ? [`First sentence: “${printable(sample)}”`] : []),
  ].join('\n');
}

/** What `docent gaps` prints: unanswered topics with counts, then "Not helpful" votes. */
export function gapsText(report: GapReport, days: number): string {
  const lines = [`Unanswered or low-confidence questions in the last ${days} day(s): ${report.topics.length} topic(s)`];
  for (const topic of report.topics) {
    lines.push(`${String(topic.count).padStart(4)} × ${printable(topic.question)}`);
    for (const other of topic.phrasings.slice(1, 4)) lines.push(`         also: ${printable(other)}`);
  }
  lines.push('', `"Not helpful" votes: ${report.notHelpful.length}`);
  for (const vote of report.notHelpful.slice(0, 20)) lines.push(`  ${vote.time.slice(0, 10)}  ${printable(vote.question)}`);
  return lines.join('\n');
}
