import type { Answer } from '../answer/types.ts';
import type { ReindexSummary } from '../index/reindex.ts';

/** The --json shape: exactly the fields promised in the README. */
export function answerJson(answer: Answer): object {
  return {
    question: answer.question,
    answered: answer.answered,
    quotes: answer.quotes.map((quote) => ({
      text: quote.text,
      source: { id: quote.source.id, title: quote.source.title, path: quote.source.path },
      start: quote.start,
      end: quote.end,
      line: quote.line,
      score: quote.score,
    })),
    ...(answer.reason ? { reason: answer.reason } : {}),
  };
}

export function answerText(answer: Answer): string {
  if (!answer.answered || answer.quotes.length === 0) return answer.reason ?? 'No answer.';
  const quotes = answer.quotes.map((quote, i) => `[${i + 1}] “${quote.text}”`).join('\n\n');
  const sources = answer.quotes.map((quote, i) => `[${i + 1}] ${quote.source.title} — ${quote.source.path}, line ${quote.line}`).join('\n');
  return `${quotes}\n\nSources:\n${sources}`;
}

const list = (ids: readonly string[]) => (ids.length > 0 ? ` (${ids.join(', ')})` : '');

export function summaryText(summary: ReindexSummary): string {
  const lines = [
    ...(summary.rebuildReason ? [`Rebuilt everything: ${summary.rebuildReason}.`] : []),
    summary.updated ? 'Index updated.' : 'Index is up to date; nothing to embed.',
    `  added:     ${summary.added.length}${list(summary.added)}`,
    `  changed:   ${summary.changed.length}${list(summary.changed)}`,
    `  removed:   ${summary.removed.length}${list(summary.removed)}`,
    `  unchanged: ${summary.unchanged.length}`,
    ...(summary.kept.length > 0 ? [`  kept previous version (file now unreadable): ${summary.kept.length}${list(summary.kept)}`] : []),
    `  embedded:  ${summary.chunksEmbedded} chunks, ${summary.sentencesEmbedded} sentences`,
    `  time:      ${summary.seconds.toFixed(1)} s`,
  ];
  return lines.join('\n');
}

export function problemsText(summary: ReindexSummary): string[] {
  return summary.problems.map((problem) => `Skipped ${problem.path}: ${problem.reason}`);
}
