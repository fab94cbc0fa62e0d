import { describe, expect, it } from 'vitest';
import { binaryProbability, fitBinary, fitConditional } from '../../src/eval/logistic.ts';

describe('fitBinary', () => {
  it('separates two classes along the feature that tells them apart, and ignores noise', () => {
    const rows: number[][] = [];
    const labels: boolean[] = [];
    for (let i = 0; i < 200; i++) {
      const positive = i % 2 === 0;
      rows.push([positive ? 0.7 + (i % 7) / 50 : 0.3 - (i % 5) / 50, (i * 37) % 11]);
      labels.push(positive);
    }
    const model = fitBinary(rows, labels);
    expect(model.weights[0]!).toBeGreaterThan(1);
    expect(Math.abs(model.weights[1]!)).toBeLessThan(0.5);
    expect(binaryProbability(model, [0.8, 3])).toBeGreaterThan(0.9);
    expect(binaryProbability(model, [0.2, 3])).toBeLessThan(0.1);
  });
});

describe('fitConditional', () => {
  it('learns to rank the gold candidate of each group first', () => {
    // Feature 0 marks the gold candidate; feature 1 is higher for a decoy in half the groups.
    const groups = Array.from({ length: 40 }, (_, g) => ({
      rows: [
        [1, g % 2 === 0 ? 0.2 : 0.9],
        [0, g % 2 === 0 ? 0.9 : 0.1],
        [0, 0.5],
      ],
      gold: [true, false, false],
    }));
    const weights = fitConditional(groups);
    expect(weights[0]!).toBeGreaterThan(weights[1]!);
    for (const { rows } of groups) {
      const scores = rows.map((row) => row[0]! * weights[0]! + row[1]! * weights[1]!);
      expect(scores.indexOf(Math.max(...scores))).toBe(0);
    }
  });
});

describe('fitConditional with nonNegative', () => {
  it('leaves at 0 a feature that only helps with a negative weight, and fits the rest', () => {
    // Feature 1 copies feature 0 plus a part that marks decoys: unconstrained, it earns a negative weight.
    const groups = Array.from({ length: 40 }, (_, g) => ({
      rows: [
        [1, 1],
        [0.9, 1.4 + (g % 3) / 10],
        [0, 0.2],
      ],
      gold: [true, false, false],
    }));
    const free = fitConditional(groups, { iterations: 800 });
    const constrained = fitConditional(groups, { iterations: 800, nonNegative: true });
    expect(free[1]!).toBeLessThan(0);
    expect(constrained[1]).toBe(0);
    expect(constrained[0]!).toBeGreaterThan(0);
  });
});

describe('sample weights', () => {
  it('fitBinary: a heavily weighted minority moves the boundary toward itself', () => {
    // Same feature value, conflicting labels: the fitted probability is the weighted share of positives.
    const rows = [[0.5], [0.5], [0.5], [0.5]];
    const labels = [true, false, false, false];
    const plain = binaryProbability(fitBinary(rows, labels, { iterations: 2000 }), [0.5]);
    const weighted = binaryProbability(fitBinary(rows, labels, { iterations: 2000 }, [9, 1, 1, 1]), [0.5]);
    expect(plain).toBeCloseTo(0.25, 1);
    expect(weighted).toBeCloseTo(0.75, 1);
  });

  it('fitConditional: the groups that weigh more decide between conflicting features', () => {
    // In "a" groups feature 0 marks gold; in "b" groups feature 1 does. Weight decides which wins.
    const group = (goldFeature: number, weight: number) => ({
      rows: [goldFeature === 0 ? [1, 0] : [0, 1], goldFeature === 0 ? [0, 1] : [1, 0]],
      gold: [true, false],
      weight,
    });
    const groups = (wA: number, wB: number) => [...Array.from({ length: 10 }, () => group(0, wA)), ...Array.from({ length: 10 }, () => group(1, wB))];
    const favourA = fitConditional(groups(3, 1));
    const favourB = fitConditional(groups(1, 3));
    expect(favourA[0]!).toBeGreaterThan(favourA[1]!);
    expect(favourB[1]!).toBeGreaterThan(favourB[0]!);
  });
});
