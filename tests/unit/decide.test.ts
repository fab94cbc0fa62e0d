import { describe, expect, it } from 'vitest';
import { coversQuestion, DEFAULT_THRESHOLDS, evidenceOf, type DeclineThresholds } from '../../src/answer/decide.ts';
import type { RankedSentence } from '../../src/retrieval/search.ts';

const ranked = (dense: number, chunkDense: number, coverage: number, n = 0): RankedSentence => ({
  sentence: { kind: 'sentence', sourceId: 'a.md', sentence: n, start: 0, end: 1, line: 1, text: 'x' },
  score: 1 - n / 100,
  dense,
  chunkDense,
  coverage,
});

describe('coversQuestion', () => {
  const { minSimilarity, coverageWeight, minEvidence } = DEFAULT_THRESHOLDS;
  const eps = 1e-6;

  it('declines below the minimum similarity, whatever the coverage', () => {
    expect(coversQuestion({ similarity: minSimilarity - eps, coverage: 1 })).toBe(false);
    expect(coversQuestion({ similarity: 0, coverage: 1 })).toBe(false);
  });

  it('answers exactly at the evidence threshold and declines just below it', () => {
    // Full coverage: the least similarity that still answers.
    const atFull = minEvidence - coverageWeight;
    expect(atFull).toBeGreaterThanOrEqual(minSimilarity);
    expect(coversQuestion({ similarity: atFull + eps, coverage: 1 })).toBe(true);
    expect(coversQuestion({ similarity: atFull - eps, coverage: 1 })).toBe(false);
    // No shared keywords: similarity alone must reach minEvidence.
    expect(coversQuestion({ similarity: minEvidence, coverage: 0 })).toBe(true);
    expect(coversQuestion({ similarity: minEvidence - eps, coverage: 0 })).toBe(false);
    // Half coverage.
    const atHalf = minEvidence - coverageWeight / 2;
    expect(coversQuestion({ similarity: atHalf + eps, coverage: 0.5 })).toBe(true);
    expect(coversQuestion({ similarity: atHalf - eps, coverage: 0.5 })).toBe(false);
  });

  it('uses the thresholds it is given', () => {
    const strict: DeclineThresholds = { minSimilarity: 0.5, coverageWeight: 0, minEvidence: 0.9 };
    expect(coversQuestion({ similarity: 0.85, coverage: 1 }, strict)).toBe(false);
    expect(coversQuestion({ similarity: 0.9, coverage: 0 }, strict)).toBe(true);
    const lenient: DeclineThresholds = { minSimilarity: 0.5, coverageWeight: 1, minEvidence: 0.5 };
    expect(coversQuestion({ similarity: 0.49, coverage: 1 }, lenient)).toBe(false);
    expect(coversQuestion({ similarity: 0.5, coverage: 0 }, lenient)).toBe(true);
  });
});

describe('evidenceOf', () => {
  it('is zero for no candidates', () => {
    expect(evidenceOf([])).toEqual({ similarity: 0, coverage: 0 });
  });

  it("takes the best candidate's similarity, or its chunk's when that is higher", () => {
    expect(evidenceOf([ranked(0.6, 0.4, 0), ranked(0.9, 0.9, 0, 1)]).similarity).toBe(0.6);
    expect(evidenceOf([ranked(0.5, 0.7, 0), ranked(0.9, 0.9, 0, 1)]).similarity).toBe(0.7);
  });

  it('takes the highest coverage among the top 5 only', () => {
    const list = [ranked(0.5, 0.5, 0.1, 0), ranked(0.4, 0.4, 0.3, 1), ranked(0.4, 0.4, 0.2, 2), ranked(0.4, 0.4, 0, 3), ranked(0.4, 0.4, 0.6, 4), ranked(0.4, 0.4, 1, 5)];
    expect(evidenceOf(list).coverage).toBe(0.6);
    expect(evidenceOf(list.slice(0, 4)).coverage).toBe(0.3);
    expect(evidenceOf(list.slice(0, 1)).coverage).toBe(0.1);
  });
});
