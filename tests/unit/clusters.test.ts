import { describe, expect, it } from 'vitest';
import { clusterRows, clustersBytes, clustersFrom } from '../../src/index/vectra/clusters.ts';
import { float32Matrix } from '../../src/index/vectorMath.ts';

/** Rows around `centres` unit directions, each a little off its centre. */
function around(centres: number, perCentre: number, dimensions = 16): { values: Float32Array; truth: number[] } {
  const values = new Float32Array(centres * perCentre * dimensions);
  const truth: number[] = [];
  let row = 0;
  for (let p = 0; p < perCentre; p++) {
    for (let c = 0; c < centres; c++) {
      const v = Array.from({ length: dimensions }, (_, d) => (d === c ? 1 : 0) + 0.05 * Math.sin(row * 7 + d * 3));
      const norm = Math.hypot(...v);
      values.set(
        v.map((x) => x / norm),
        row * dimensions,
      );
      truth.push(c);
      row++;
    }
  }
  return { values, truth };
}

describe('sentence groups of a shard', () => {
  it('puts rows near one direction in one group, one group per 32 rows, the same every time', async () => {
    const { values, truth } = around(4, 32);
    const matrix = float32Matrix(values, 16);
    const clusters = await clusterRows(matrix);
    expect(clusters.count).toBe(4);
    // Rows with the same true centre share a group, and different centres do not.
    for (let a = 0; a < truth.length; a++) {
      for (let b = 0; b < truth.length; b++) expect(clusters.assignments[a] === clusters.assignments[b]).toBe(truth[a] === truth[b]);
    }
    for (let c = 0; c < clusters.count; c++) {
      const centroid = clusters.centroids.subarray(c * 16, (c + 1) * 16);
      expect(Math.hypot(...centroid)).toBeCloseTo(1, 5);
    }
    expect(await clusterRows(matrix)).toEqual(clusters);
  });

  it('round-trips through clusters.bin, and refuses one that does not fit the shard', async () => {
    const clusters = await clusterRows(float32Matrix(around(3, 20).values, 16));
    const bytes = clustersBytes(clusters);
    const back = clustersFrom(bytes, 60, 16)!;
    expect(Array.from(back.assignments)).toEqual(Array.from(clusters.assignments));
    expect(Array.from(back.centroids)).toEqual(Array.from(clusters.centroids));
    expect(clustersFrom(bytes, 61, 16)).toBeUndefined();
    expect(clustersFrom(bytes.subarray(0, bytes.length - 4), 60, 16)).toBeUndefined();
  });
});
