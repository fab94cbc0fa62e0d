/** Reading tensors from a safetensors file, up-casting fp16 weights to fp32 exactly. */

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Byte range relative to the start of the data section (after the header). */
  dataOffsets: [number, number];
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  /** Absolute offset of the data section in the file buffer. */
  dataStart: number;
}

/** Parses the 8-byte length + JSON header; validates ranges so a truncated download fails loudly here rather than as garbage weights. */
export function parseSafetensorsHeader(buffer: Uint8Array): SafetensorsFile {
  if (buffer.byteLength < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  if (dataStart > buffer.byteLength) throw new Error('safetensors: header length exceeds file size');
  const json = JSON.parse(new TextDecoder().decode(buffer.subarray(8, dataStart))) as Record<string, unknown>;
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const offsets = entry.data_offsets;
    if (
      typeof entry.dtype !== 'string' ||
      !Array.isArray(entry.shape) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      typeof offsets[0] !== 'number' ||
      typeof offsets[1] !== 'number'
    ) {
      throw new Error(`safetensors: malformed header entry for ${name}`);
    }
    if (dataStart + offsets[1] > buffer.byteLength || offsets[0] > offsets[1]) {
      throw new Error(`safetensors: data for ${name} lies outside the file`);
    }
    tensors.set(name, { dtype: entry.dtype, shape: entry.shape as number[], dataOffsets: [offsets[0], offsets[1]] });
  }
  return { tensors, dataStart };
}

let halfTable: Float32Array | undefined;

/** All 65,536 half-precision values decoded once: a table lookup beats bit-twiddling per weight. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0)
      table[h] = sign * fraction * 2 ** -24; // subnormal (or signed zero)
    else if (exponent === 31) table[h] = fraction ? NaN : sign * Infinity;
    else table[h] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  halfTable = table;
  return table;
}

/** Exact up-cast: every fp16 value is representable in fp32. Reads little-endian regardless of the byte alignment of `bytes`. */
export function fp16ToFp32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 2 !== 0) throw new Error('fp16 data must have an even byte length');
  const table = halfToFloatTable();
  const count = bytes.byteLength / 2;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return out;
}

export interface Fp32Tensor {
  shape: number[];
  data: Float32Array;
}

/** One named tensor as fp32, whatever float type the file stored it in. */
export function readTensorFp32(buffer: Uint8Array, file: SafetensorsFile, name: string): Fp32Tensor {
  const entry = file.tensors.get(name);
  if (!entry) throw new Error(`safetensors: missing tensor ${name}`);
  const bytes = buffer.subarray(file.dataStart + entry.dataOffsets[0], file.dataStart + entry.dataOffsets[1]);
  let data: Float32Array;
  if (entry.dtype === 'F16') data = fp16ToFp32(bytes);
  else if (entry.dtype === 'F32') data = new Float32Array(bytes.slice().buffer);
  else throw new Error(`safetensors: ${name} has unsupported dtype ${entry.dtype}`);
  const expected = entry.shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`safetensors: ${name} holds ${data.length} values, shape says ${expected}`);
  return { shape: entry.shape, data };
}

/** PyTorch Linear stores [out, in]; ONNX MatMul computes x·W, so the initializer must be [in, out]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const rowOffset = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[rowOffset + c]!;
  }
  return out;
}
