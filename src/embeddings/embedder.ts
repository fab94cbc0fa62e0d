/**
 * Text embeddings for Docent. The default model runs entirely from the local conversion in
 * minilmConversion.ts and never touches the network; other model ids are passed to
 * transformers.js as-is for users who configure one and have Hub access.
 */
import { env, pipeline, type FeatureExtractionPipeline, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import { float32Matrix, type VectorMatrix } from '../index/vectorMath.ts';
import { ensureConvertedMiniLm } from './minilm/convert.ts';
import { MINILM_MAX_TOKENS } from './minilm/modelFolder.ts';

export const DEFAULT_MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';

const DEFAULT_DIMENSIONS = 384;

export interface Embedder {
  readonly modelId: string;
  readonly dimensions: number;
  /** Word pieces the model reads before truncating (256 for MiniLM) including [CLS]/[SEP]. */
  readonly maxTokens: number;
  /** L2-normalised mean-pooled vectors, one per text, in order. Batches internally. */
  embed(texts: readonly string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
  /**
   * As `embed`, and for each text whose `withTokens` entry is set, the model's vector of each of its
   * word pieces, L2-normalised, [CLS] and [SEP] left out, row after row: what a question is matched
   * against a sentence with, piece by piece (`pieceBests`).
   */
  embedWithTokens(
    texts: readonly string[],
    withTokens: readonly boolean[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ vectors: Float32Array[]; tokens: (Float32Array | undefined)[] }>;
  /**
   * Number of word pieces the model would see for this text, including special tokens,
   * before truncation: a result above `maxTokens` means the tail of the text is ignored.
   */
  countTokens(text: string): number;
  dispose(): Promise<void>;
}

/** Questions as ranking reads them: each one's vector and its word pieces' vectors. */
export async function embedQuestions(embedder: Embedder, questions: readonly string[]): Promise<{ vector: Float32Array; tokens: VectorMatrix }[]> {
  const { vectors, tokens } = await embedder.embedWithTokens(
    questions,
    questions.map(() => true),
  );
  return vectors.map((vector, i) => ({ vector, tokens: float32Matrix(tokens[i] ?? new Float32Array(0), embedder.dimensions) }));
}

/** Whether the model's vocabulary holds a word whole: one word piece between [CLS] and [SEP]. */
export function commonWordTest(embedder: Pick<Embedder, 'countTokens'>): (word: string) => boolean {
  return (word) => embedder.countTokens(word) === 3;
}

/** What loading the model reports while it works; front ends put it in words. */
export type ModelEvent =
  | { readonly kind: 'converting-model' }
  | { readonly kind: 'model-converted'; readonly seconds: number }
  | { readonly kind: 'downloading-model'; readonly modelId: string };

export interface EmbedderOptions {
  modelId: string;
  cacheDir: string;
  batchSize: number;
  /** Where other models than the default are downloaded from (the Hugging Face Hub by default). */
  hubUrl?: string;
  onEvent?: (event: ModelEvent) => void;
}

/** The model could not be prepared or loaded; `setting` names what to fix. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    readonly setting: 'MODEL_ID' | 'MODEL_CACHE_DIR',
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${setting} ${value}: ${reason}`);
  }
}

function cacheProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const file = (error as NodeJS.ErrnoException).path;
  if (code === 'ENOTDIR' || code === 'EEXIST') return `${file ?? 'a path in it'} is a file, not a folder`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `${file ?? 'it'} cannot be written (${code})`;
  if (code === 'ENOSPC') return 'the disk is full';
  return error instanceof Error ? error.message : String(error);
}

const DEFAULT_HUB_URL = 'https://huggingface.co/';

const withTrailingSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/** Why another model could not be fetched, in words that tell a missing model from a missing network. */
function downloadProblem(error: unknown, hub: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if ((error instanceof Error && error.name === 'ModelFileNotFoundError') || message.startsWith('Could not locate file')) {
    return `the model hub at ${hub} has no such model (check the id; only the default model works without it)`;
  }
  if (message === 'fetch failed' || /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(message)) {
    return `the model hub at ${hub} could not be reached (models other than the default are downloaded on first use; set MODEL_HUB_URL to a mirror, or leave MODEL_ID unset for the built-in model)`;
  }
  return `${message} (while downloading it from ${hub})`;
}

export async function loadEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const { modelId, cacheDir, onEvent } = options;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  }

  let extractor: FeatureExtractionPipeline;
  if (modelId === DEFAULT_MODEL_ID) {
    await ensureConvertedMiniLm(cacheDir, onEvent).catch((error: unknown) => {
      throw new ModelLoadError('MODEL_CACHE_DIR', cacheDir, cacheProblem(error));
    });
    env.localModelPath = cacheDir;
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    extractor = await pipeline('feature-extraction', modelId, { dtype: 'fp32', local_files_only: true });
  } else {
    const hub = withTrailingSlash(options.hubUrl ?? DEFAULT_HUB_URL);
    env.allowRemoteModels = true;
    env.remoteHost = hub;
    env.cacheDir = cacheDir;
    onEvent?.({ kind: 'downloading-model', modelId });
    extractor = await pipeline('feature-extraction', modelId).catch((error: unknown) => {
      throw new ModelLoadError('MODEL_ID', modelId, downloadProblem(error, hub));
    });
  }

  // The pipeline's tokenizer is the one AutoTokenizer loads from the same folder; reusing it
  // guarantees countTokens agrees with what embed() feeds the model.
  const tokenizer = extractor.tokenizer;
  const maxTokens = modelId === DEFAULT_MODEL_ID ? MINILM_MAX_TOKENS : tokenizerLimit(tokenizer);

  // The pipeline's own call (tokenizer, then model), pooled here so the word-piece vectors it pools
  // can be kept as well: the same mean over real (unpadded) pieces, then unit length.
  const run: ModelRun = async (batch, withTokens) => {
    const inputs = tokenizer(batch, { padding: true, truncation: true });
    const { last_hidden_state: hidden } = (await extractor.model(inputs)) as { last_hidden_state: Tensor };
    return pooled(hidden, inputs.attention_mask as Tensor, inputs.input_ids as Tensor, withTokens, tokenizer.all_special_ids);
  };

  const dimensions = modelId === DEFAULT_MODEL_ID ? DEFAULT_DIMENSIONS : ((await run(['dimension probe'], [false])).vectors[0]?.length ?? 0);
  if (dimensions <= 0) throw new Error(`Embedding model ${modelId} produced no output dimensions`);

  return new PipelineEmbedder(modelId, dimensions, maxTokens, options.batchSize, run, tokenizer, () => extractor.dispose());
}

/** Sequence-classification style models may not set model_max_length; fall back to BERT's 512. */
function tokenizerLimit(tokenizer: PreTrainedTokenizer): number {
  const limit = tokenizer.model_max_length;
  return Number.isFinite(limit) && limit > 0 && limit < 100_000 ? limit : 512;
}

type ModelRun = (batch: string[], withTokens: readonly boolean[]) => Promise<{ vectors: Float32Array[]; tokens: (Float32Array | undefined)[] }>;

function unitLength(values: Float32Array, from: number, dimensions: number): void {
  let norm = 0;
  for (let d = 0; d < dimensions; d++) norm += values[from + d]! ** 2;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let d = 0; d < dimensions; d++) values[from + d]! *= scale;
}

/** Mean-pooled unit vectors of a padded batch, and the wanted texts' word-piece vectors (without the special pieces: [CLS], [SEP], padding). */
export function pooled(
  hidden: Tensor,
  attentionMask: Tensor,
  inputIds: Tensor,
  withTokens: readonly boolean[],
  special: readonly number[],
): { vectors: Float32Array[]; tokens: (Float32Array | undefined)[] } {
  const [rows, length, dimensions] = hidden.dims as [number, number, number];
  const data = hidden.data as Float32Array;
  const mask = attentionMask.data as BigInt64Array;
  const ids = inputIds.data as BigInt64Array;
  const skip = new Set(special.map(BigInt));
  const vectors: Float32Array[] = [];
  const tokens: (Float32Array | undefined)[] = [];
  for (let row = 0; row < rows; row++) {
    const vector = new Float32Array(dimensions);
    const kept: number[] = [];
    let count = 0;
    for (let t = 0; t < length; t++) {
      const at = row * length + t;
      if (mask[at] === 0n) continue;
      count++;
      for (let d = 0; d < dimensions; d++) vector[d]! += data[at * dimensions + d]!;
      if (!skip.has(ids[at]!)) kept.push(at);
    }
    for (let d = 0; d < dimensions; d++) vector[d]! /= Math.max(count, 1);
    unitLength(vector, 0, dimensions);
    vectors.push(vector);
    if (!withTokens[row]) {
      tokens.push(undefined);
      continue;
    }
    const pieces = new Float32Array(kept.length * dimensions);
    kept.forEach((at, i) => {
      pieces.set(data.subarray(at * dimensions, (at + 1) * dimensions), i * dimensions);
      unitLength(pieces, i * dimensions, dimensions);
    });
    tokens.push(pieces);
  }
  return { vectors, tokens };
}

/**
 * Groups texts of similar length into the same batch (longest first): a batch is padded to its
 * longest member, so mixing a one-line heading with a full passage wastes most of the compute.
 * Returns indices into `texts`.
 */
export function lengthSortedOrder(texts: readonly string[]): number[] {
  return texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length || a - b);
}

class PipelineEmbedder implements Embedder {
  constructor(
    readonly modelId: string,
    readonly dimensions: number,
    readonly maxTokens: number,
    private readonly batchSize: number,
    private readonly run: ModelRun,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly disposeModel: () => Promise<void>,
  ) {}

  async embed(texts: readonly string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
    return (await this.embedWithTokens(texts, [], onProgress)).vectors;
  }

  async embedWithTokens(texts: readonly string[], withTokens: readonly boolean[], onProgress?: (done: number, total: number) => void) {
    const total = texts.length;
    const vectors = new Array<Float32Array>(total);
    const tokens = new Array<Float32Array | undefined>(total).fill(undefined);
    const order = lengthSortedOrder(texts);
    let done = 0;
    for (let start = 0; start < total; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      const batch = await this.run(
        indices.map((i) => texts[i]!),
        indices.map((i) => withTokens[i] === true),
      );
      indices.forEach((original, j) => {
        const vector = batch.vectors[j];
        if (!vector) throw new Error(`Embedding model returned ${batch.vectors.length} vectors for ${indices.length} texts`);
        vectors[original] = vector;
        tokens[original] = batch.tokens[j];
      });
      done += indices.length;
      onProgress?.(done, total);
    }
    return { vectors, tokens };
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  dispose(): Promise<void> {
    return this.disposeModel();
  }
}
