import { terms } from '../retrieval/terms.ts';

/** For each keyword stem, how many of the sentences hold it: what IDF is computed from. */
export function termCounts(sentences: readonly { readonly text: string }[]): Record<string, number> {
  const counts: Record<string, number> = Object.create(null);
  for (const { text } of sentences) for (const term of new Set(terms(text))) counts[term] = (counts[term] ?? 0) + 1;
  return counts;
}
