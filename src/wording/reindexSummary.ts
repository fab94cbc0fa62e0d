/** The words a re-index summary is told in, shared by the CLI and the bot's /reindex. */
import type { ReindexSummary } from '../docent.ts';

const list = (ids: readonly string[]) => (ids.length > 0 ? ` (${ids.join(', ')})` : '');

/** A re-index summary in plain lines, as the CLI prints it and /reindex shows it. */
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
