import type { RankedSentence } from '../retrieval/search.ts';

/**
 * When the evidence is good enough to quote. Similarity alone confuses "same topic area" with
 * "answers it" (a max-cosine cut answers 96% of in-scope questions but declines only 88% of
 * out-of-scope ones), so it is combined with keyword coverage: the share of the question's
 * keyword weight (IDF) found in the passages around the best quotes. A paraphrase with few
 * shared words needs high similarity; a passage holding every keyword needs less.
 * Measured with `npm run eval`; see the README's "Declining" section.
 */
export interface DeclineThresholds {
  /** Below this similarity nothing is quoted, whatever the keywords say. */
  readonly minSimilarity: number;
  /** How much full keyword coverage adds to similarity. */
  readonly coverageWeight: number;
  /** similarity + coverageWeight × coverage must reach this. */
  readonly minEvidence: number;
}

export const DEFAULT_THRESHOLDS: DeclineThresholds = { minSimilarity: 0.15, coverageWeight: 0.6, minEvidence: 0.78 };

/** Only the best few candidates lend their keyword coverage: deeper ones are not shown. */
const COVERAGE_DEPTH = 5;

export interface Evidence {
  /** Cosine similarity of the best quote, or of its chunk if higher. */
  readonly similarity: number;
  readonly coverage: number;
}

export function evidenceOf(ranked: readonly RankedSentence[]): Evidence {
  const best = ranked[0];
  if (best === undefined) return { similarity: 0, coverage: 0 };
  return {
    similarity: Math.max(best.dense, best.chunkDense),
    coverage: Math.max(...ranked.slice(0, COVERAGE_DEPTH).map((entry) => entry.coverage)),
  };
}

export function coversQuestion(evidence: Evidence, thresholds: DeclineThresholds = DEFAULT_THRESHOLDS): boolean {
  return (
    evidence.similarity >= thresholds.minSimilarity &&
    evidence.similarity + thresholds.coverageWeight * evidence.coverage >= thresholds.minEvidence
  );
}
