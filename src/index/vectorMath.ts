/** Dense scoring over flat row-major matrices of unit vectors. */

/**
 * Vectors as float32, or as int8 where memory matters: each row then scaled so its largest
 * component is ±127, keeping that scale. int8 takes a quarter of the memory; a cosine read back
 * is within about 1e-3 of the exact one.
 */
export interface VectorMatrix {
  readonly dimensions: number;
  readonly rows: number;
  readonly codes: Float32Array | Int8Array;
  /** Per row: the value one code step stands for (1 for float32 rows). */
  readonly scales: Float32Array;
}

export function float32Matrix(values: Float32Array, dimensions: number): VectorMatrix {
  const rows = values.length / dimensions;
  if (!Number.isInteger(rows)) throw new RangeError(`${values.length} numbers do not make rows of ${dimensions}`);
  return { dimensions, rows, codes: values, scales: new Float32Array(rows).fill(1) };
}

/** The arrays end to end in one new buffer (one that can be handed to another thread), leaving out the missing ones. */
export async function concatenated(
  arrays: readonly (Float32Array | undefined)[],
  /** Called after each array is copied; what it returns is awaited (a turn for the event loop, say). */
  afterEach: () => Promise<void> | undefined = () => undefined,
): Promise<Float32Array<ArrayBuffer>> {
  const values = new Float32Array(arrays.reduce((sum, array) => sum + (array?.length ?? 0), 0));
  let at = 0;
  for (const array of arrays) {
    if (array === undefined) continue;
    values.set(array, at);
    at += array.length;
    await afterEach();
  }
  return values;
}

/** The same vectors in int8 (a float32 matrix is converted; an int8 one returned as it is). */
export function toInt8(matrix: VectorMatrix): VectorMatrix {
  if (matrix.codes instanceof Int8Array) return matrix;
  const rows = Array.from({ length: matrix.rows }, (_, row) => matrix.codes.subarray(row * matrix.dimensions, (row + 1) * matrix.dimensions));
  return quantize(rows, matrix.dimensions);
}

export function quantize(vectors: readonly ArrayLike<number>[], dimensions: number): VectorMatrix {
  const codes = new Int8Array(vectors.length * dimensions);
  const scales = new Float32Array(vectors.length);
  vectors.forEach((vector, row) => {
    if (vector.length !== dimensions) throw new RangeError(`A vector has ${vector.length} numbers, not ${dimensions}`);
    let largest = 0;
    for (let d = 0; d < dimensions; d++) largest = Math.max(largest, Math.abs(vector[d]!));
    const scale = largest === 0 ? 1 : largest / 127;
    scales[row] = scale;
    for (let d = 0; d < dimensions; d++) codes[row * dimensions + d] = Math.round(vector[d]! / scale);
  });
  return { dimensions, rows: vectors.length, codes, scales };
}

/** Dot product of `query` with one row; the cosine, for unit vectors. */
export function dotRow(matrix: VectorMatrix, row: number, query: Float64Array): number {
  const { codes, dimensions } = matrix;
  let sum = 0;
  for (let d = 0, offset = row * dimensions; d < dimensions; d++) sum += codes[offset + d]! * query[d]!;
  return sum * matrix.scales[row]!;
}

/** Dot product of `query` with every row: the loop a query spends most of its time in. */
export function dotAll(matrix: VectorMatrix, query: Float64Array): Float64Array {
  const scores = new Float64Array(matrix.rows);
  const { codes, dimensions } = matrix;
  // One copy of the loop per array type keeps each monomorphic, and a loop without a remainder
  // runs about twice as fast in V8; every common embedding size is a multiple of 4.
  if (dimensions % 4 !== 0) for (let row = 0; row < matrix.rows; row++) scores[row] = dotRow(matrix, row, query) / matrix.scales[row]!;
  else if (codes instanceof Float32Array) scanFloat32(codes, dimensions, query, scores);
  else scanInt8(codes, dimensions, query, scores);
  for (let row = 0; row < matrix.rows; row++) scores[row]! *= matrix.scales[row]!;
  return scores;
}

function scanFloat32(codes: Float32Array, dimensions: number, query: Float64Array, out: Float64Array): void {
  for (let row = 0; row < out.length; row++) {
    const offset = row * dimensions;
    let a = 0;
    let b = 0;
    let c = 0;
    let e = 0;
    for (let d = 0; d < dimensions; d += 4) {
      const at = offset + d;
      a += codes[at]! * query[d]!;
      b += codes[at + 1]! * query[d + 1]!;
      c += codes[at + 2]! * query[d + 2]!;
      e += codes[at + 3]! * query[d + 3]!;
    }
    out[row] = a + b + c + e;
  }
}

function scanInt8(codes: Int8Array, dimensions: number, query: Float64Array, out: Float64Array): void {
  for (let row = 0; row < out.length; row++) {
    const offset = row * dimensions;
    let a = 0;
    let b = 0;
    let c = 0;
    let e = 0;
    for (let d = 0; d < dimensions; d += 4) {
      const at = offset + d;
      a += codes[at]! * query[d]!;
      b += codes[at + 1]! * query[d + 1]!;
      c += codes[at + 2]! * query[d + 2]!;
      e += codes[at + 3]! * query[d + 3]!;
    }
    out[row] = a + b + c + e;
  }
}

/**
 * Late interaction (as in ColBERT): for each of the question's word pieces, its best cosine to any
 * of the sentence's. Their mean tells apart two sentences of one passage that a single vector each
 * cannot, by which of the question's words each one answers to; their least says whether some part
 * of the question finds nothing in the sentence at all.
 */
export function pieceBests(question: VectorMatrix, sentence: VectorMatrix): Float64Array {
  const bests = new Float64Array(question.rows);
  if (sentence.rows === 0) return bests;
  const { dimensions } = question;
  const query = new Float64Array(dimensions);
  for (let row = 0; row < question.rows; row++) {
    for (let d = 0; d < dimensions; d++) query[d] = question.codes[row * dimensions + d]! * question.scales[row]!;
    let best = Number.NEGATIVE_INFINITY;
    for (const cosine of dotAll(sentence, query)) best = Math.max(best, cosine);
    bests[row] = best;
  }
  return bests;
}

/** The mean and the least of `pieceBests` (0 and 0 when either side has no pieces). */
export function pieceMatches(bests: ArrayLike<number>): { readonly mean: number; readonly weakest: number } {
  if (bests.length === 0) return { mean: 0, weakest: 0 };
  let sum = 0;
  let weakest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < bests.length; i++) {
    sum += bests[i]!;
    weakest = Math.min(weakest, bests[i]!);
  }
  return { mean: sum / bests.length, weakest };
}

/** Element-wise sum of two matrices of the same shape (float32). */
export function addMatrices(a: VectorMatrix, b: VectorMatrix): VectorMatrix {
  if (!(a.codes instanceof Float32Array) || !(b.codes instanceof Float32Array) || a.rows !== b.rows)
    throw new RangeError('addMatrices takes two float32 matrices of one shape');
  const sum = new Float32Array(a.codes.length);
  for (let i = 0; i < sum.length; i++) sum[i] = a.codes[i]! + b.codes[i]!;
  return float32Matrix(sum, a.dimensions);
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
