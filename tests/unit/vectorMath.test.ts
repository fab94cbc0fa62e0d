import { describe, expect, it } from 'vitest';
import { dotAll, dotRow, float32Matrix, quantize, toInt8, topK } from '../../src/index/vectorMath.ts';

function unitVectors(count: number, dimensions: number, seed = 1): Float32Array[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  return Array.from({ length: count }, () => {
    const vector = Float32Array.from({ length: dimensions }, next);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}

const exactDot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, value, i) => sum + value * b[i]!, 0);

describe('int8 vectors', () => {
  it('keep cosines within 2e-3 of float32 on 384-dimensional unit vectors', () => {
    const vectors = unitVectors(200, 384);
    const [query] = unitVectors(1, 384, 99);
    const matrix = quantize(vectors, 384);
    const q = Float64Array.from(query!);
    const scores = dotAll(matrix, q);
    vectors.forEach((vector, row) => {
      expect(Math.abs(scores[row]! - exactDot(vector, query!))).toBeLessThan(2e-3);
      expect(dotRow(matrix, row, q)).toBe(scores[row]);
    });
  });

  it('converts float32 to int8 row for row', () => {
    const vectors = unitVectors(3, 8, 5);
    const q = Float64Array.from(vectors[0]!);
    const exact = float32Matrix(Float32Array.from(vectors.flatMap((v) => Array.from(v))), 8);
    expect(dotRow(exact, 2, q)).toBeCloseTo(exactDot(vectors[2]!, vectors[0]!), 6);
    const int8 = toInt8(exact);
    expect(int8.codes).toBeInstanceOf(Int8Array);
    expect(dotRow(int8, 2, q)).toBeCloseTo(dotRow(quantize(vectors, 8), 2, q), 6);
    expect(toInt8(int8)).toBe(int8);
  });

  it('scores sizes that are not a multiple of 4 as well', () => {
    const vectors = unitVectors(5, 7, 3);
    const q = Float64Array.from(unitVectors(1, 7, 4)[0]!);
    const exact = float32Matrix(Float32Array.from(vectors.flatMap((v) => Array.from(v))), 7);
    Array.from(dotAll(exact, q)).forEach((score, row) => expect(score).toBeCloseTo(exactDot(vectors[row]!, q), 6));
    Array.from(dotAll(quantize(vectors, 7), q)).forEach((score, row) => expect(score).toBeCloseTo(exactDot(vectors[row]!, q), 2));
  });

  it('stores a zero vector as zeros rather than dividing by zero', () => {
    const matrix = quantize([new Float32Array(4)], 4);
    expect(Array.from(matrix.codes)).toEqual([0, 0, 0, 0]);
    expect(dotRow(matrix, 0, Float64Array.from([1, 1, 1, 1]))).toBe(0);
  });

  it('refuses a vector of the wrong size', () => {
    expect(() => quantize([new Float32Array(3)], 4)).toThrow(/3 numbers, not 4/);
  });
});

describe('topK', () => {
  it('returns the k best positions, best first, skipping rejected ones', () => {
    const scores = [0.1, 0.9, 0.5, 0.7, 0.3];
    expect(topK(scores, 3)).toEqual([1, 3, 2]);
    expect(topK(scores, 2, (position) => position !== 1)).toEqual([3, 2]);
    expect(topK(scores, 10)).toEqual([1, 3, 2, 4, 0]);
  });
});
