/** Dense scoring over flat row-major matrices of unit vectors. */

/** Dot product of `query` with every row of a flat row-major matrix; cosine for unit vectors. */
export function dotAll(matrix: Float32Array, dimensions: number, query: ArrayLike<number>): Float64Array {
  const rows = matrix.length / dimensions;
  const scores = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    const offset = row * dimensions;
    for (let d = 0; d < dimensions; d++) sum += matrix[offset + d]! * query[d]!;
    scores[row] = sum;
  }
  return scores;
}

/**
 * Positions of the `k` highest scores, best first, skipping those `keep` rejects. Keeps a small
 * sorted list instead of sorting every score, so it costs about one pass over the scores.
 */
export function topK(scores: ArrayLike<number>, k: number, keep: (position: number) => boolean = () => true): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (best.length === k && scores[i]! <= scores[best[k - 1]!]!) continue;
    if (!keep(i)) continue;
    let at = best.length;
    while (at > 0 && scores[best[at - 1]!]! < scores[i]!) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Dot product of `query` with one row of a flat matrix. */
export function dotRow(matrix: Float32Array, dimensions: number, row: number, query: ArrayLike<number>): number {
  let sum = 0;
  const offset = row * dimensions;
  for (let d = 0; d < dimensions; d++) sum += matrix[offset + d]! * query[d]!;
  return sum;
}
