import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, lengthSortedOrder, loadEmbedder, type Embedder, type ModelEvent } from '../../src/embeddings/embedder.ts';
import { ensureConvertedMiniLm } from '../../src/embeddings/minilm/convert.ts';
import { convertedModelDir, defaultModelCacheDir, isConvertedModelDir, REQUIRED_MODEL_FILES } from '../../src/embeddings/minilm/modelFolder.ts';
import { fp16ToFp32, parseSafetensorsHeader, transpose2d } from '../../src/embeddings/minilm/safetensors.ts';

interface ReferenceFile {
  sentences: { text: string; embedding: number[] }[];
}
const reference = JSON.parse(readFileSync('/work/shared/reference/minilm-embeddings.json', 'utf8')) as ReferenceFile;

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Makes any network attempt fail loudly and records it, including transformers.js's own fetch hook. */
async function withoutNetwork<T>(body: () => Promise<T>): Promise<{ result: T; attempts: string[] }> {
  const attempts: string[] = [];
  const trap = (input: unknown): Promise<never> => {
    attempts.push(String(input));
    return Promise.reject(new Error(`network access attempted: ${String(input)}`));
  };
  const originalGlobal = globalThis.fetch;
  const originalEnv = env.fetch;
  globalThis.fetch = trap as typeof fetch;
  env.fetch = trap;
  try {
    return { result: await body(), attempts };
  } finally {
    globalThis.fetch = originalGlobal;
    env.fetch = originalEnv;
  }
}

describe('pure conversion helpers', () => {
  it('decodes fp16 exactly, including subnormals and specials', () => {
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555, 0x7c00, 0xfc00, 0x7e00];
    const bytes = new Uint8Array(halves.length * 2);
    halves.forEach((h, i) => {
      bytes[2 * i] = h & 0xff;
      bytes[2 * i + 1] = h >> 8;
    });
    const out = Array.from(fp16ToFp32(bytes));
    expect(out.slice(0, 6)).toEqual([1, -2, 65504, 2 ** -24, -0, 0.333251953125]);
    expect(out[6]).toBe(Infinity);
    expect(out[7]).toBe(-Infinity);
    expect(out[8]).toBeNaN();
  });

  it('decodes fp16 from an odd byte offset', () => {
    const backing = new Uint8Array(5);
    backing.set([0x00, 0x3c, 0x00, 0x40], 1); // 1.0, 2.0 starting at offset 1
    expect(Array.from(fp16ToFp32(backing.subarray(1)))).toEqual([1, 2]);
  });

  it('transposes [out, in] into [in, out]', () => {
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2 x 3
    expect(Array.from(transpose2d(w, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('parses a safetensors header and rejects ranges outside the file', () => {
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
    });
    const headerBytes = new TextEncoder().encode(header);
    const buffer = new Uint8Array(8 + headerBytes.length + 4);
    new DataView(buffer.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    buffer.set(headerBytes, 8);
    const parsed = parseSafetensorsHeader(buffer);
    expect(parsed.dataStart).toBe(8 + headerBytes.length);
    expect(parsed.tensors.get('a')).toEqual({ dtype: 'F16', shape: [2], dataOffsets: [0, 4] });
    expect(parsed.tensors.has('__metadata__')).toBe(false);
    expect(() => parseSafetensorsHeader(buffer.subarray(0, buffer.length - 1))).toThrow(/outside the file/);
  });

  it('orders texts longest first and keeps ties stable', () => {
    expect(lengthSortedOrder(['aa', 'a', 'aaaa', 'bb'])).toEqual([2, 0, 3, 1]);
  });

  it('resolves the shared cache to <repo root>/.cache/models', () => {
    const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
    expect(defaultModelCacheDir()).toBe(join(repoRoot, '.cache', 'models'));
  });
});

describe('conversion into a fresh cache dir', () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'docent-minilm-'));
  });
  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('writes the transformers.js layout, logs progress, and is idempotent', async () => {
    const messages: ModelEvent[] = [];
    const dir = await ensureConvertedMiniLm(cacheDir, (m) => messages.push(m));
    expect(dir).toBe(convertedModelDir(cacheDir));
    expect(dir).toBe(join(cacheDir, 'sentence-transformers', 'all-MiniLM-L6-v2'));
    expect(messages[0]).toEqual({ kind: 'converting-model' });
    expect(messages[1]).toMatchObject({ kind: 'model-converted' });
    expect((messages[1] as { seconds: number }).seconds).toBeGreaterThan(0);

    for (const file of REQUIRED_MODEL_FILES) expect((await stat(join(dir, file))).size).toBeGreaterThan(0);
    // fp32 weights: roughly twice the 45 MB fp16 file.
    expect((await stat(join(dir, 'onnx', 'model.onnx'))).size).toBeGreaterThan(85_000_000);
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    expect(tokenizerConfig).toMatchObject({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 256 });
    // Nothing but the finished model folder is left in the parent.
    expect(await readdir(join(cacheDir, 'sentence-transformers'))).toEqual(['all-MiniLM-L6-v2']);

    const before = (await stat(join(dir, 'onnx', 'model.onnx'))).mtimeMs;
    const again: ModelEvent[] = [];
    expect(await ensureConvertedMiniLm(cacheDir, (m) => again.push(m))).toBe(dir);
    expect(again).toEqual([]);
    expect((await stat(join(dir, 'onnx', 'model.onnx'))).mtimeMs).toBe(before);
  });

  it('replaces a half-written folder and sweeps temp folders of dead conversions', async () => {
    const partialCache = join(cacheDir, 'partial');
    const target = convertedModelDir(partialCache);
    // What a crash mid-write could look like if we wrote in place: files present, no marker.
    await mkdir(join(target, 'onnx'), { recursive: true });
    await writeFile(join(target, 'config.json'), '{}');
    await writeFile(join(target, 'onnx', 'model.onnx'), 'truncated');
    expect(await isConvertedModelDir(target)).toBe(false);

    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const abandoned = `${target}.converting-${deadPid}-deadbeef`;
    await mkdir(join(abandoned, 'onnx'), { recursive: true });

    await ensureConvertedMiniLm(partialCache);
    expect(await isConvertedModelDir(target)).toBe(true);
    expect((await stat(join(target, 'onnx', 'model.onnx'))).size).toBeGreaterThan(85_000_000);
    expect(await readdir(join(partialCache, 'sentence-transformers'))).toEqual(['all-MiniLM-L6-v2']);
  });

  it('shares one conversion between concurrent callers', async () => {
    const concurrentCache = join(cacheDir, 'concurrent');
    const messages: ModelEvent[] = [];
    const [a, b] = await Promise.all([
      ensureConvertedMiniLm(concurrentCache, (m) => messages.push(m)),
      ensureConvertedMiniLm(concurrentCache, (m) => messages.push(m)),
    ]);
    expect(a).toBe(b);
    expect(messages.filter((m) => m.kind === 'converting-model')).toHaveLength(1);
    expect(await isConvertedModelDir(a)).toBe(true);
  });
});

describe('default embedder (shared .cache/models)', () => {
  let embedder: Embedder;
  let networkAttempts: string[];

  beforeAll(async () => {
    const { result, attempts } = await withoutNetwork(async () => {
      const loaded = await loadEmbedder({
        modelId: DEFAULT_MODEL_ID,
        cacheDir: defaultModelCacheDir(),
        batchSize: 4,
      });
      // Run inference inside the trap too: lazy loading must not reach for the Hub either.
      await loaded.embed(['warm up the session']);
      return loaded;
    });
    embedder = result;
    networkAttempts = attempts;
  });
  afterAll(async () => {
    await embedder?.dispose();
  });

  it('never touches the network for the default model', () => {
    expect(networkAttempts).toEqual([]);
  });

  it('describes itself', () => {
    expect(embedder.modelId).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(embedder.dimensions).toBe(384);
    expect(embedder.maxTokens).toBe(256);
  });

  it('reproduces the reference embeddings (cosine >= 0.9999)', async () => {
    const { result: vectors, attempts } = await withoutNetwork(() => embedder.embed(reference.sentences.map((s) => s.text)));
    expect(attempts).toEqual([]);
    expect(vectors).toHaveLength(reference.sentences.length);
    reference.sentences.forEach((sentence, i) => {
      const vector = vectors[i]!;
      expect(vector).toHaveLength(384);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      expect(cosine(vector, sentence.embedding)).toBeGreaterThanOrEqual(0.9999);
    });
  });

  it('counts word pieces including [CLS] and [SEP]', () => {
    expect(embedder.countTokens('hello world')).toBe(4);
    expect(embedder.countTokens('')).toBe(2);
  });

  it('keeps input order across length-sorted batches', async () => {
    const texts = [
      'Short.',
      'A considerably longer sentence about the history of the harbour and its many lighthouses.',
      'Medium length text about archives.',
      'Tiny',
      'The museum opened in 1923 after a decade of fundraising by local merchants and sailors.',
      'Letters',
      'What year did the library move to its current building on the square?',
      'x',
      'Another mid-sized line for the batch.',
    ];
    const progress: [number, number][] = [];
    const together = await embedder.embed(texts, (done, total) => progress.push([done, total]));
    expect(progress).toEqual([
      [4, 9],
      [8, 9],
      [9, 9],
    ]);
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await embedder.embed([texts[i]!]);
      expect(cosine(together[i]!, alone!)).toBeGreaterThan(0.9999);
    }
    // Distinct texts really get distinct vectors (so the check above is meaningful).
    expect(cosine(together[0]!, together[1]!)).toBeLessThan(0.9);
  });

  it('returns an empty list for no texts', async () => {
    expect(await embedder.embed([])).toEqual([]);
  });

  it('truncates at maxTokens: text past the 256th word piece does not change the vector', async () => {
    const common = ['the', 'harbour', 'museum', 'opened', 'in', 'a', 'cold', 'winter', 'and', 'sailors', 'came'];
    const head = Array.from({ length: 260 }, (_, i) => common[i % common.length]).join(' ');
    const tailA = 'quantum chromodynamics describes quarks gluons and colour charge '.repeat(12);
    const tailB = 'the recipe needs flour butter sugar eggs and a pinch of salt '.repeat(12);
    expect(embedder.countTokens(head)).toBe(262);
    // Control: the tails alone are far apart, so if they were read they would move the vectors.
    const [soloA, soloB] = await embedder.embed([tailA, tailB]);
    expect(cosine(soloA!, soloB!)).toBeLessThan(0.5);
    const [a, b] = await embedder.embed([`${head} ${tailA}`, `${head} ${tailB}`]);
    expect(cosine(a!, b!)).toBeGreaterThan(0.99999);
  });
});
