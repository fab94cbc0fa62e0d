import { yieldToEventLoop } from '../store.ts';
import type { VectorMatrix } from '../vectorMath.ts';

/**
 * Groups of similar sentences within one source, so that a large index can skip most of itself:
 * a question is compared with each group's centroid first, and only the sentences of the closest
 * groups are scored (an inverted-file search). The groups are made per source when its shard is
 * written, so a re-index that carries a source over carries its groups over too.
 */

/** Sentences per group, on average. */
export const CLUSTER_SIZE = 32;
const ITERATIONS = 8;
const ROWS_PER_TURN = 256;

export interface ShardClusters {
  /** Groups in the shard. */
  readonly count: number;
  /** For each sentence (in shard order), its group. */
  readonly assignments: Int32Array;
  /** Each group's centroid, normalised, row-major (`count` × dimensions). */
  readonly centroids: Float32Array;
}

function row(matrix: VectorMatrix, index: number, out: Float64Array): Float64Array {
  const { dimensions, codes, scales } = matrix;
  for (let d = 0; d < dimensions; d++) out[d] = codes[index * dimensions + d]! * scales[index]!;
  return out;
}

function normalise(values: Float64Array | Float32Array, from: number, length: number): void {
  let norm = 0;
  for (let d = 0; d < length; d++) norm += values[from + d]! ** 2;
  norm = Math.sqrt(norm) || 1;
  for (let d = 0; d < length; d++) values[from + d]! /= norm;
}

/**
 * Spherical k-means over the rows (cosine similarity), started from evenly spaced rows so the
 * same shard always gets the same groups.
 */
export async function clusterRows(matrix: VectorMatrix): Promise<ShardClusters> {
  const { rows, dimensions } = matrix;
  const count = Math.max(1, Math.ceil(rows / CLUSTER_SIZE));
  const centroids = new Float64Array(count * dimensions);
  const vector = new Float64Array(dimensions);
  const unit = Array.from({ length: rows }, (_, r) => {
    const copy = Float64Array.from(row(matrix, r, vector));
    normalise(copy, 0, dimensions);
    return copy;
  });
  for (let c = 0; c < count; c++) if (rows > 0) centroids.set(unit[Math.floor((c * rows) / count)]!, c * dimensions);
  const assignments = new Int32Array(rows);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < count; c++) {
        let score = 0;
        for (let d = 0; d < dimensions; d++) score += unit[r]![d]! * centroids[c * dimensions + d]!;
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      assignments[r] = best;
      // A long article has many groups: its passes give the event loop turns.
      if (r % ROWS_PER_TURN === ROWS_PER_TURN - 1) await yieldToEventLoop();
    }
    const sums = new Float64Array(count * dimensions);
    const sizes = new Int32Array(count);
    for (let r = 0; r < rows; r++) {
      const c = assignments[r]!;
      sizes[c]!++;
      for (let d = 0; d < dimensions; d++) sums[c * dimensions + d]! += unit[r]![d]!;
    }
    for (let c = 0; c < count; c++) {
      // An emptied group keeps its centroid; it simply stays empty.
      if (sizes[c] === 0) continue;
      normalise(sums, c * dimensions, dimensions);
      centroids.set(sums.subarray(c * dimensions, (c + 1) * dimensions), c * dimensions);
    }
  }
  return { count, assignments, centroids: Float32Array.from(centroids) };
}

/** `clusters.bin`: the assignments (int32 per sentence), then the centroids (float32). */
export function clustersBytes(clusters: ShardClusters): Buffer {
  return Buffer.concat([
    Buffer.from(clusters.assignments.buffer, clusters.assignments.byteOffset, clusters.assignments.byteLength),
    Buffer.from(clusters.centroids.buffer, clusters.centroids.byteOffset, clusters.centroids.byteLength),
  ]);
}

/** Reads `clusters.bin` back for a shard of `sentences` sentences, or undefined when its size does not fit. */
export function clustersFrom(bytes: Buffer, sentences: number, dimensions: number): ShardClusters | undefined {
  const centroidBytes = bytes.length - sentences * 4;
  if (centroidBytes < 0 || centroidBytes % (dimensions * 4) !== 0) return undefined;
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const assignments = new Int32Array(buffer, 0, sentences);
  const count = centroidBytes / (dimensions * 4);
  if (assignments.some((group) => group < 0 || group >= count)) return undefined;
  return { count, assignments, centroids: new Float32Array(buffer, sentences * 4, count * dimensions) };
}
