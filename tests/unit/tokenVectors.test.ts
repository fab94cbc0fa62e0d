import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTokenVectors, encodeTokenVectors, readTokenVectors, tokenLayout } from '../../src/index/tokenVectors.ts';
import { float32Matrix, pieceBests, pieceMatches, type VectorMatrix } from '../../src/index/vectorMath.ts';

/** The late-interaction score: the mean of each question piece's best cosine to the sentence's. */
const meanMatch = (question: VectorMatrix, sentence: VectorMatrix) => pieceMatches(pieceBests(question, sentence)).mean;

const unit = (values: number[]) => {
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
};
const matrix = (rows: number[][]) => float32Matrix(Float32Array.from(rows.flat()), rows[0]!.length);

describe('stored word-piece vectors', () => {
  it('read back as written, to int8 precision, with none for a sentence written without', () => {
    const first = [unit([1, 2, 3, 4]), unit([-4, 0, 1, 0])];
    const third = [unit([0, 0, 0, 1])];
    const stored = encodeTokenVectors([Float32Array.from(first.flat()), undefined, Float32Array.from(third.flat())], 4);
    // Read from an offset no Float32Array could start at, as a column's bytes may be.
    const shifted = new Uint8Array(stored.length + 1);
    shifted.set(stored, 1);
    const [a, b, c] = decodeTokenVectors(shifted.subarray(1), 3, 4, 'test');
    expect(b).toBeUndefined();
    for (const [read, rows] of [
      [a!, first],
      [c!, third],
    ] as const) {
      expect(read.rows).toBe(rows.length);
      rows.forEach((row, r) => row.forEach((value, d) => expect(read.codes[r * 4 + d]! * read.scales[r]!).toBeCloseTo(value, 2)));
    }
  });

  it('read from a file a few sentences at a time, knowing only the piece counts at its head', async () => {
    const sentences = [
      [unit([1, 2, 3, 4]), unit([-4, 0, 1, 0])],
      undefined,
      [unit([0, 0, 0, 1])],
      [unit([0, 1, 0, 0]), unit([1, 1, 1, 1]), unit([1, 0, 0, 0])],
    ];
    const stored = encodeTokenVectors(
      sentences.map((rows) => (rows ? Float32Array.from(rows.flat()) : undefined)),
      4,
    );
    const whole = decodeTokenVectors(stored, 4, 4, 'test');
    const dir = await mkdtemp(path.join(tmpdir(), 'docent-tokens-'));
    try {
      const file = path.join(dir, 'tokens.i8');
      await writeFile(file, stored);
      const layout = tokenLayout(stored.subarray(0, 16), 4, 4, file);
      expect(layout.bytes).toBe(stored.length);
      const handle = await open(file, 'r');
      try {
        expect(await readTokenVectors(handle, layout, [3, 1, 0, 7])).toEqual([whole[3], undefined, whole[0], undefined]);
        // A file cut short since its layout was read says so.
        await writeFile(file, stored.subarray(0, stored.length - 2));
        await expect(readTokenVectors(handle, layout, [3])).rejects.toThrow(/shorter than its layout/);
      } finally {
        await handle.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('name where they came from when their length does not add up', () => {
    const stored = encodeTokenVectors([Float32Array.from(unit([1, 0, 0, 0]))], 4);
    expect(() => decodeTokenVectors(stored.subarray(0, stored.length - 1), 1, 4, 'shards/a.md/tokens.i8')).toThrow(
      /shards\/a\.md\/tokens\.i8: \d+ bytes, not the \d+ its piece counts call for/,
    );
    expect(() => decodeTokenVectors(new Uint8Array(2), 1, 4, 'row 7')).toThrow(/row 7: 2 bytes cannot hold the piece counts of 1 sentences/);
  });
});

describe('pieceBests and pieceMatches', () => {
  it("averages each question piece's best cosine to any piece of the sentence", () => {
    const question = matrix([unit([1, 0, 0]), unit([0, 1, 0])]);
    expect(meanMatch(question, matrix([unit([1, 0, 0]), unit([0, 1, 0]), unit([0, 0, 1])]))).toBeCloseTo(1, 6);
    // The first piece finds its match, the second only a cosine of 0.6.
    expect(meanMatch(question, matrix([unit([1, 0, 0]), [0, 0.6, 0.8]]))).toBeCloseTo(0.8, 6);
    expect(meanMatch(question, matrix([unit([0, 0, 1])]))).toBeCloseTo(0, 6);
  });

  it('names the question piece the sentence matches least: the part of the question it may not answer', () => {
    const question = matrix([unit([1, 0, 0]), unit([0, 1, 0])]);
    const bests = pieceBests(question, matrix([unit([1, 0, 0]), [0, 0.6, 0.8]]));
    expect(Array.from(bests, (best) => Number(best.toFixed(6)))).toEqual([1, 0.6]);
    expect(pieceMatches(bests)).toEqual({ mean: expect.closeTo(0.8, 6), weakest: expect.closeTo(0.6, 6) });
    expect(pieceMatches(pieceBests(question, matrix([unit([1, 0, 0]), unit([0, 1, 0])]))).weakest).toBeCloseTo(1, 6);
    expect(pieceMatches([])).toEqual({ mean: 0, weakest: 0 });
  });

  it('ranks the sentence holding more of the question above one holding less', () => {
    const question = matrix([unit([1, 0, 0, 0]), unit([0, 1, 0, 0]), unit([0, 0, 1, 0])]);
    const more = matrix([unit([1, 0.1, 0, 0]), unit([0, 1, 0.1, 0]), unit([0, 0, 0, 1])]);
    const less = matrix([unit([1, 0.1, 0, 0]), unit([0, 0, 0, 1])]);
    expect(meanMatch(question, more)).toBeGreaterThan(meanMatch(question, less));
  });

  it('is 0 when either side has no pieces', () => {
    expect(meanMatch(float32Matrix(new Float32Array(0), 3), matrix([[1, 0, 0]]))).toBe(0);
    expect(meanMatch(matrix([[1, 0, 0]]), float32Matrix(new Float32Array(0), 3))).toBe(0);
  });
});
