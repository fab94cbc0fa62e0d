import type { RankedSentence } from '../retrieval/search.ts';

/**
 * When the best evidence is good enough to quote. Dense similarity alone confuses "same topic
 * area" with "answers it", so a moderately similar passage must also contain most of the
 * question's keyword weight. Values measured with `npm run eval` (see README, "Declining").
 */
export interface DeclineThresholds {
  /** Chunk similarity at which the passage is accepted on meaning alone. */
  readonly strongSimilarity: number;
  /** Below this chunk similarity nothing is quoted, whatever the keywords say. */
  readonly minSimilarity: number;
  /** Share of the question's keyword weight the passage must hold when similarity is moderate. */
  readonly minCoverage: number;
}

export const DEFAULT_THRESHOLDS: DeclineThresholds = { strongSimilarity: 0.6, minSimilarity: 0.25, minCoverage: 0.5 };

export function coversQuestion(best: RankedSentence | undefined, thresholds: DeclineThresholds = DEFAULT_THRESHOLDS): boolean {
  if (best === undefined) return false;
  const similarity = Math.max(best.chunkDense, best.dense);
  if (similarity >= thresholds.strongSimilarity) return true;
  return similarity >= thresholds.minSimilarity && best.coverage >= thresholds.minCoverage;
}
