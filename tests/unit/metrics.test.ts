import { describe, expect, it } from 'vitest';
import { weightedQuantile } from '../../src/eval/metrics.ts';

describe('weightedQuantile', () => {
  it('with equal weights is the plain quantile, whatever the input order', () => {
    expect(weightedQuantile([5, 1, 4, 2, 3], [1, 1, 1, 1, 1], 0.5)).toBe(3);
    expect(weightedQuantile([5, 1, 4, 2, 3], [1, 1, 1, 1, 1], 0.1)).toBe(1);
  });

  it('moves toward the values that weigh more', () => {
    expect(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 1], 0.5)).toBe(3);
    expect(weightedQuantile([1, 2, 3, 4], [5, 1, 1, 1], 0.5)).toBe(1);
    expect(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 5], 0.5)).toBe(4);
  });

  it('is NaN for no values', () => {
    expect(weightedQuantile([], [], 0.5)).toBeNaN();
  });
});
