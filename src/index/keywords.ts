import { terms } from '../retrieval/terms.ts';
import { TURN_MS, turnsOf } from './store.ts';

/** For each keyword stem, how many of the sentences hold it: what IDF is computed from. */
export function termCounts(sentences: readonly { readonly text: string }[]): Record<string, number> {
  const counts: Record<string, number> = Object.create(null);
  for (const { text } of sentences) count(counts, text);
  return counts;
}

/**
 * `termCounts`, giving the event loop a turn every few milliseconds: a long article's counts
 * took about 50 ms in one piece on the answering thread during a re-index.
 */
export async function termCountsInTurns(sentences: readonly { readonly text: string }[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.create(null);
  const turn = turnsOf(TURN_MS);
  for (const { text } of sentences) {
    count(counts, text);
    await turn();
  }
  return counts;
}

const count = (counts: Record<string, number>, text: string) => {
  for (const term of new Set(terms(text))) counts[term] = (counts[term] ?? 0) + 1;
};
