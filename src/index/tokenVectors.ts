import type { FileHandle } from 'node:fs/promises';
import { quantize, type VectorMatrix } from './vectorMath.ts';

/**
 * Sentences' word-piece vectors as stored: for each sentence its count of pieces (-1 when it has
 * none), then every piece's int8 scale, then their codes. int8 because a sentence has about 30
 * pieces: four times less to store and hold, and a cosine moved by about 1e-3.
 */
export function encodeTokenVectors(sentences: readonly (Float32Array | undefined)[], dimensions: number): Buffer {
  const counts = Int32Array.from(sentences, (pieces) => (pieces === undefined ? -1 : pieces.length / dimensions));
  const rows = sentences.flatMap((pieces) =>
    pieces === undefined ? [] : Array.from({ length: pieces.length / dimensions }, (_, row) => pieces.subarray(row * dimensions, (row + 1) * dimensions)),
  );
  const matrix = quantize(rows, dimensions);
  const bytes = (array: Int32Array | Float32Array | Int8Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  return Buffer.concat([bytes(counts), bytes(matrix.scales), bytes(matrix.codes)]);
}

/** Where each sentence's pieces lie in a stored block, worked out from the piece counts alone. */
export interface TokenLayout {
  readonly sentences: number;
  readonly dimensions: number;
  /** Per sentence, its first piece's row, or -1 when it has none; then the total rows. */
  readonly firstRow: Int32Array;
  /** The block's length in bytes. */
  readonly bytes: number;
}

/** The layout of a block whose first `sentences × 4` bytes are `countBytes`, or an error naming `where`. */
export function tokenLayout(countBytes: Uint8Array, sentences: number, dimensions: number, where: string): TokenLayout {
  if (countBytes.byteLength < sentences * 4)
    throw new RangeError(`${where}: ${countBytes.byteLength} bytes cannot hold the piece counts of ${sentences} sentences`);
  // An aligned copy: a file's or a column's bytes may start anywhere.
  const counts = new Int32Array(Uint8Array.from(countBytes.subarray(0, sentences * 4)).buffer);
  const firstRow = new Int32Array(sentences + 1);
  let rows = 0;
  counts.forEach((count, i) => {
    firstRow[i] = count < 0 ? -1 : rows;
    rows += Math.max(count, 0);
  });
  firstRow[sentences] = rows;
  return { sentences, dimensions, firstRow, bytes: sentences * 4 + rows * (4 + dimensions) };
}

/** Rows [first, end) of sentence `i`, or undefined when it has no pieces. */
function rowsOf(layout: TokenLayout, i: number): { first: number; end: number } | undefined {
  const first = layout.firstRow[i]!;
  if (first < 0) return undefined;
  let next = i + 1;
  while (layout.firstRow[next]! < 0) next++;
  return { first, end: layout.firstRow[next]! };
}

/** The pieces of `rows` as views of `scales` and `codes`, which hold the block's rows from `firstHeld` on. */
function piecesIn(rows: { first: number; end: number } | undefined, scales: Float32Array, codes: Int8Array, firstHeld: number, dimensions: number) {
  if (rows === undefined) return undefined;
  const from = rows.first - firstHeld;
  const to = rows.end - firstHeld;
  return { dimensions, rows: to - from, scales: scales.subarray(from, to), codes: codes.subarray(from * dimensions, to * dimensions) };
}

/** Every sentence's pieces from a whole stored block, or an error naming `where`. */
export function decodeTokenVectors(stored: Uint8Array, sentences: number, dimensions: number, where: string): (VectorMatrix | undefined)[] {
  const layout = tokenLayout(stored, sentences, dimensions, where);
  if (stored.byteLength !== layout.bytes) throw new RangeError(`${where}: ${stored.byteLength} bytes, not the ${layout.bytes} its piece counts call for`);
  const block = Uint8Array.from(stored).buffer;
  const total = layout.firstRow[sentences]!;
  const scales = new Float32Array(block, sentences * 4, total);
  const codes = new Int8Array(block, sentences * 4 + total * 4, total * dimensions);
  return Array.from({ length: sentences }, (_, i) => piecesIn(rowsOf(layout, i), scales, codes, 0, dimensions));
}

/**
 * The pieces of the sentences at `positions`, read from an open block file laid out as `layout`:
 * one read for the scales and one for the codes of the rows from the first wanted sentence's to
 * the last's (a question's candidates from one source are mostly near each other).
 */
export async function readTokenVectors(file: FileHandle, layout: TokenLayout, positions: readonly number[]): Promise<(VectorMatrix | undefined)[]> {
  const wanted = positions.map((i) => (i >= 0 && i < layout.sentences ? rowsOf(layout, i) : undefined));
  const present = wanted.filter((rows) => rows !== undefined);
  if (present.length === 0) return wanted.map(() => undefined);
  const first = Math.min(...present.map((rows) => rows.first));
  const end = Math.max(...present.map((rows) => rows.end));
  const { dimensions } = layout;
  const total = layout.firstRow[layout.sentences]!;
  const scales = new Float32Array(end - first);
  const codes = new Int8Array((end - first) * dimensions);
  const reads = [
    await file.read(new Uint8Array(scales.buffer), 0, scales.byteLength, layout.sentences * 4 + first * 4),
    await file.read(new Uint8Array(codes.buffer), 0, codes.byteLength, layout.sentences * 4 + total * 4 + first * dimensions),
  ];
  if (reads[0]!.bytesRead !== scales.byteLength || reads[1]!.bytesRead !== codes.byteLength) {
    throw new RangeError('the word-piece vectors file is shorter than its layout');
  }
  return wanted.map((rows) => piecesIn(rows, scales, codes, first, dimensions));
}
