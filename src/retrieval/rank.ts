/** Small numeric helpers shared by the ranking stages. */

/** Dot product of `query` with every row of a flat row-major matrix; cosine for unit vectors. */
export function dotAll(matrix: Float32Array, dimensions: number, query: readonly number[]): Float64Array {
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

/** Positions of the `k` highest scores, best first. */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[b]! - scores[a]!)
    .slice(0, k);
}
