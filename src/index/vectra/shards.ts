import { type FileHandle, mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalIndex } from 'vectra';
import { z } from 'zod';
import { termCounts } from '../keywords.ts';
import { yieldToEventLoop, type ChunkRecord, type SentenceRecord, type SourceItems } from '../store.ts';
import { encodeTokenVectors, tokenLayout, type TokenLayout } from '../tokenVectors.ts';
import { addMatrices, float32Matrix, toInt8, type VectorMatrix } from '../vectorMath.ts';
import { readTextIfPresent } from './files.ts';

/**
 * A shard holds one source: its chunks and sentences as Vectra `LocalIndex` folders of at most
 * PART_ITEMS items each. Bounded parts keep every file far below V8's longest string, and Vectra's
 * insert (which checks each id against all earlier ones) linear in the corpus: the check only ever
 * runs within one part.
 *
 * Beside them, what loading reads: `records.json` (the records), `terms.json` (the keyword counts,
 * apart because a generation that keeps them summed loads without them, and their thousands of
 * keys took most of the time spent parsing a shard), `vectors.bin` (the vectors as float32:
 * sentences, then contexts, then chunks), so a large index loads without parsing hundreds of
 * megabytes of JSON numbers, and `vectors.i8` (the same in the
 * form a large index holds them: sentences, sentence + context sums and chunks in int8, then each
 * row's scale), so a large index loads without converting anything. A shard without the first two
 * is read from its Vectra files; one without `vectors.i8` is converted as it loads.
 */
const PART_ITEMS = 128;
/** Inserts between turns given back to the event loop. */
const INSERTS_PER_TURN = 256;
const RECORDS_FILE = 'records.json';
const TERMS_FILE = 'terms.json';
const VECTORS_FILE = 'vectors.bin';
const INT8_FILE = 'vectors.i8';
/** The sentences' word-piece vectors (`tokenVectors.ts`), read a few sentences at a time when a question re-ranks them. */
const TOKENS_FILE = 'tokens.i8';

type Metadata = Record<string, string | number>;

const chunkRecord = z.object({
  kind: z.literal('chunk'),
  sourceId: z.string(),
  chunk: z.number().int(),
  start: z.number().int(),
  end: z.number().int(),
  firstSentence: z.number().int(),
  lastSentence: z.number().int(),
  text: z.string(),
});
const sentenceRecord = z.object({
  kind: z.literal('sentence'),
  sourceId: z.string(),
  sentence: z.number().int(),
  start: z.number().int(),
  end: z.number().int(),
  line: z.number().int(),
  text: z.string(),
  entities: z.string(),
});
const contextRecord = z.object({ kind: z.literal('context'), sentence: z.number().int() });
const itemMetadata = z.discriminatedUnion('kind', [chunkRecord, sentenceRecord, contextRecord]);
/** The fields of each record and their JSON types, checked for every record of `records.json`. */
const SENTENCE_FIELDS = { sourceId: 'string', sentence: 'number', start: 'number', end: 'number', line: 'number', text: 'string', entities: 'string' } as const;
const CHUNK_FIELDS = {
  sourceId: 'string',
  chunk: 'number',
  start: 'number',
  end: 'number',
  firstSentence: 'number',
  lastSentence: 'number',
  text: 'string',
} as const;

/**
 * Every record has every field, of its type: plain typeof checks inside one `z.custom`. A zod
 * schema per record, or even zod's walk over each array element, took longer than reading the
 * files at a million sentences.
 */
export function typedRecords<T>(fields: Record<string, 'string' | 'number'>) {
  const expected = Object.entries(fields);
  const isRecord = (record: unknown) => {
    if (typeof record !== 'object' || record === null) return false;
    for (const [key, type] of expected) if (typeof (record as Record<string, unknown>)[key] !== type) return false;
    return true;
  };
  return z.custom<T[]>((records) => Array.isArray(records) && records.every(isRecord));
}

/** Keyword counts as a file holds them: an object whose every value is a whole number (checked as records are). */
const termsFile = z.custom<Record<string, number>>((terms) => {
  if (typeof terms !== 'object' || terms === null || Array.isArray(terms)) return false;
  for (const key in terms) if (!Number.isInteger((terms as Record<string, unknown>)[key])) return false;
  return true;
});

const recordsFile = z.object({
  sentences: typedRecords<SentenceRecord>(SENTENCE_FIELDS),
  chunks: typedRecords<ChunkRecord>(CHUNK_FIELDS),
  /** Shards written before `terms.json` existed keep their keyword counts here. */
  terms: termsFile.optional(),
});
type RecordsFile = z.infer<typeof recordsFile>;

/** A shard's keyword counts: its `terms.json`, or those its `records.json` holds, or, without either, its Vectra files'. */
export async function readShardTerms(folder: string, dimensions: number): Promise<Readonly<Record<string, number>>> {
  const terms = await readTermsJson(path.join(folder, TERMS_FILE));
  if (terms) return terms;
  const records = await readRecords(folder);
  return records ? termsOf(folder, records) : (await readVectraShard(folder, dimensions)).termCounts;
}

/** Keyword counts as one JSON object (a shard's `terms.json`), validated, or undefined when there is no such file. */
export async function readTermsJson(file: string): Promise<Record<string, number> | undefined> {
  const text = await readTextIfPresent(file);
  if (text === undefined) return undefined;
  try {
    return termsFile.parse(JSON.parse(text));
  } catch {
    throw new ShardFormatError(`${file} is not a Docent keyword count file`);
  }
}

/** The keyword counts of a shard whose records are read: in them, or in `terms.json`, which must then be there. */
async function termsOf(folder: string, records: RecordsFile): Promise<Readonly<Record<string, number>>> {
  if (records.terms) return records.terms;
  const terms = await readTermsJson(path.join(folder, TERMS_FILE));
  if (terms === undefined) throw new ShardFormatError(`${path.join(folder, TERMS_FILE)} is missing`);
  return terms;
}

export class ShardFormatError extends Error {
  override name = 'ShardFormatError';
}

/** A shard as read back: records in order, vectors as matrices (one row per record). */
export interface LoadedShard {
  readonly chunks: ChunkRecord[];
  readonly chunkVectors: VectorMatrix;
  readonly sentences: SentenceRecord[];
  readonly sentenceVectors: VectorMatrix;
  readonly contextVectors: VectorMatrix;
  readonly termCounts: Readonly<Record<string, number>>;
}

/** A shard's word-piece vectors file and where each sentence's pieces lie in it. */
export interface ShardTokens {
  readonly file: string;
  readonly layout: TokenLayout;
}

interface VectraItem {
  readonly id: string;
  readonly vector: number[];
  readonly metadata: Metadata;
}

/** Six decimals keep cosine similarity exact to ~1e-6 and halve index.json. */
function compact(vector: Float32Array): number[] {
  return Array.from(vector, (value) => Math.round(value * 1e6) / 1e6);
}

function* vectraItems(items: SourceItems): Generator<VectraItem> {
  for (const { record, vector } of items.chunks) yield { id: `chunk:${record.chunk}`, vector: compact(vector), metadata: { kind: 'chunk', ...record } };
  for (const { record, vector } of items.sentences)
    yield { id: `sentence:${record.sentence}`, vector: compact(vector), metadata: { kind: 'sentence', ...record } };
  for (const { record, context } of items.sentences)
    yield { id: `context:${record.sentence}`, vector: compact(context), metadata: { kind: 'context', sentence: record.sentence } };
}

const partName = (part: number) => `part-${String(part).padStart(3, '0')}`;

/**
 * Vectra, loaded only where its files are written or an old shard is read from them: importing it
 * holds some 33 MB of heap (its tokenizer tables and clients) for the life of the process, which
 * every full collection of the thread that answers questions would otherwise walk.
 */
const vectra = () => import('vectra');

export async function writeShard(folder: string, items: SourceItems): Promise<void> {
  const { LocalIndex } = await vectra();
  await mkdir(folder, { recursive: true });
  let part = 0;
  let index: LocalIndex<Metadata> | undefined;
  let inPart = 0;
  for (const item of vectraItems(items)) {
    if (index === undefined || inPart === PART_ITEMS) {
      if (index) await index.endUpdate();
      index = new LocalIndex<Metadata>(path.join(folder, partName(part++)));
      await index.createIndex({ version: 1 });
      await index.beginUpdate();
      inPart = 0;
    }
    await index.insertItem(item);
    if (++inPart % INSERTS_PER_TURN === 0) await yieldToEventLoop();
  }
  if (index) await index.endUpdate();
  const records: RecordsFile = {
    sentences: items.sentences.map((s) => s.record),
    chunks: items.chunks.map((c) => c.record),
  };
  const vectors = [...items.sentences.map((s) => s.vector), ...items.sentences.map((s) => s.context), ...items.chunks.map((c) => c.vector)];
  await writeFile(path.join(folder, VECTORS_FILE), Buffer.concat(vectors.map(bytesOf)));
  const loaded = loadedOf(items);
  await writeFile(path.join(folder, INT8_FILE), int8Bytes(prepareShard(loaded, true)));
  if (items.sentences.some((s) => s.tokens !== undefined)) {
    const dimensions = loaded.sentenceVectors.dimensions;
    await writeFile(
      path.join(folder, TOKENS_FILE),
      encodeTokenVectors(
        items.sentences.map((s) => s.tokens),
        dimensions,
      ),
    );
  }
  // Before the records: a records file without keyword counts says its terms file was written.
  await writeFile(path.join(folder, TERMS_FILE), JSON.stringify(items.termCounts));
  await writeFile(path.join(folder, RECORDS_FILE), JSON.stringify(records));
}

/** Items as loading returns them, to be prepared the way loading prepares them. */
function loadedOf(items: SourceItems): LoadedShard {
  const matrix = (vectors: readonly Float32Array[], dimensions: number) => {
    const values = new Float32Array(vectors.length * dimensions);
    vectors.forEach((vector, row) => values.set(vector, row * dimensions));
    return float32Matrix(values, dimensions);
  };
  const dimensions = items.sentences[0]?.vector.length ?? items.chunks[0]?.vector.length ?? 0;
  return {
    sentences: items.sentences.map((s) => s.record),
    chunks: items.chunks.map((c) => c.record),
    sentenceVectors: matrix(
      items.sentences.map((s) => s.vector),
      dimensions,
    ),
    contextVectors: matrix(
      items.sentences.map((s) => s.context),
      dimensions,
    ),
    chunkVectors: matrix(
      items.chunks.map((c) => c.vector),
      dimensions,
    ),
    termCounts: items.termCounts,
  };
}

/** `vectors.i8`: the three int8 matrices' codes, then all their scales. */
function int8Bytes(shard: PreparedShard): Buffer {
  const matrices = [shard.sentenceVectors, shard.denseVectors, shard.chunkVectors];
  return Buffer.concat([
    ...matrices.map((matrix) => Buffer.from(matrix.codes.buffer, matrix.codes.byteOffset, matrix.codes.byteLength)),
    ...matrices.map((matrix) => bytesOf(matrix.scales)),
  ]);
}

/**
 * Reads `vectors.i8` for records already read: into `into` (views of the index's own matrices) when
 * given, so loading neither allocates nor copies a shard's vectors on the main thread, or else into
 * matrices of its own. Undefined when the shard has no such file.
 */
async function readInt8(
  folder: string,
  rows: readonly number[],
  dimensions: number,
  into?: readonly VectorMatrix[],
): Promise<readonly VectorMatrix[] | undefined> {
  const file = path.join(folder, INT8_FILE);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const total = rows.reduce((sum, n) => sum + n, 0);
    const { size } = await handle.stat();
    if (size !== total * (dimensions + 4)) {
      throw new ShardFormatError(`${file} holds ${size} bytes, not the ${total * (dimensions + 4)} its records call for`);
    }
    const matrices = into ?? rows.map((count) => ({ dimensions, rows: count, codes: new Int8Array(count * dimensions), scales: new Float32Array(count) }));
    // The file holds every matrix's codes, then every matrix's scales: one read fills them all.
    const bytes = (array: Int8Array | Float32Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    const { bytesRead } = await handle.readv([...matrices.map((m) => bytes(m.codes)), ...matrices.map((m) => bytes(m.scales))], 0);
    if (bytesRead !== size) throw new ShardFormatError(`${file} was read short: ${bytesRead} of its ${size} bytes`);
    return matrices;
  } finally {
    await handle.close();
  }
}

/**
 * A shard in the form the index holds it: the sentence + context sums in place of the context
 * vectors, int8 when `int8`.
 */
export interface PreparedShard extends Omit<LoadedShard, 'contextVectors'> {
  readonly denseVectors: VectorMatrix;
  /** Where its sentences' word-piece vectors are, when the shard keeps them and the index reads them (`readShardTokens`). */
  readonly tokens?: ShardTokens;
}

/**
 * Converts a shard as soon as it is read, so a large index never holds every shard's float32
 * vectors at once (at a million sentences that alone would be 3 GiB).
 */
export function prepareShard(shard: LoadedShard, int8: boolean): PreparedShard {
  const stored = (matrix: VectorMatrix) => (int8 ? toInt8(matrix) : matrix);
  const { contextVectors, ...rest } = shard;
  return {
    ...rest,
    sentenceVectors: stored(shard.sentenceVectors),
    denseVectors: stored(addMatrices(shard.sentenceVectors, contextVectors)),
    chunkVectors: stored(shard.chunkVectors),
  };
}

/** Where a shard's int8 rows are to go in a large index: views of its sentence, dense and chunk matrices. */
export interface ShardRows {
  readonly sentenceVectors: VectorMatrix;
  readonly denseVectors: VectorMatrix;
  readonly chunkVectors: VectorMatrix;
}

/**
 * Reads a shard for an index: in int8 straight from `vectors.i8` when `int8` (a large index) and
 * the shard has one, into `into` when given, else from its float32 vectors, converted. Its keyword
 * counts are left out unless `withTerms` (a generation that keeps them summed needs none).
 */
export async function readPreparedShard(folder: string, dimensions: number, int8: boolean, withTerms = true, into?: ShardRows): Promise<PreparedShard> {
  if (int8) {
    const records = await readRecords(folder);
    if (records && into && (records.sentences.length !== into.sentenceVectors.rows || records.chunks.length !== into.chunkVectors.rows)) {
      throw new ShardFormatError(
        `${path.join(folder, RECORDS_FILE)} holds ${records.sentences.length} sentences and ${records.chunks.length} chunks; the manifest says ${into.sentenceVectors.rows} and ${into.chunkVectors.rows}`,
      );
    }
    const targets = into && [into.sentenceVectors, into.denseVectors, into.chunkVectors];
    const matrices = records && (await readInt8(folder, [records.sentences.length, records.sentences.length, records.chunks.length], dimensions, targets));
    if (records && matrices) {
      const [sentenceVectors, denseVectors, chunkVectors] = matrices as [VectorMatrix, VectorMatrix, VectorMatrix];
      return {
        sentences: records.sentences,
        chunks: records.chunks,
        termCounts: withTerms ? await termsOf(folder, records) : {},
        sentenceVectors,
        denseVectors,
        chunkVectors,
      };
    }
  }
  return prepareShard(await readShard(folder, dimensions), int8);
}

const bytesOf = (array: Float32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

/** Throws when the shard's vectors file is shorter or longer than its source's counts call for (a shard of Vectra files alone is not checked). */
export async function checkShardSize(folder: string, source: { readonly sentences: number; readonly chunks: number }, dimensions: number): Promise<void> {
  const file = path.join(folder, VECTORS_FILE);
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) {
    // Without its sidecar a shard is read from its Vectra files, which must then be there.
    if (await stat(path.join(folder, RECORDS_FILE)).catch(() => undefined)) throw new ShardFormatError(`${file} is missing`);
    if (!(await stat(path.join(folder, partName(0))).catch(() => undefined))) throw new ShardFormatError(`${folder} holds no index files`);
    return;
  }
  const expected = (2 * source.sentences + source.chunks) * dimensions * 4;
  if (size !== expected)
    throw new ShardFormatError(
      `${file} holds ${size} bytes, not the ${expected} its source's ${source.sentences} sentences and ${source.chunks} chunks call for`,
    );
}

/** `records.json`, validated, or undefined when the shard has none (it is then read from its Vectra files). */
async function readRecords(folder: string): Promise<RecordsFile | undefined> {
  const text = await readTextIfPresent(path.join(folder, RECORDS_FILE));
  if (text === undefined) return undefined;
  try {
    return recordsFile.parse(JSON.parse(text));
  } catch {
    throw new ShardFormatError(`${path.join(folder, RECORDS_FILE)} is not a Docent records file`);
  }
}

/** Reads a shard, its vectors as float32. */
export async function readShard(folder: string, dimensions: number): Promise<LoadedShard> {
  const parsed = await readRecords(folder);
  if (parsed === undefined) return readVectraShard(folder, dimensions);
  const bytes = await readFile(path.join(folder, VECTORS_FILE));
  const counts = [parsed.sentences.length, parsed.sentences.length, parsed.chunks.length];
  const expected = counts.reduce((sum, n) => sum + n, 0) * dimensions * 4;
  if (bytes.length !== expected) {
    throw new ShardFormatError(`${path.join(folder, VECTORS_FILE)} holds ${bytes.length} bytes, not the ${expected} its records call for`);
  }
  // One aligned copy, viewed as three matrices.
  const values = new Float32Array(Uint8Array.from(bytes).buffer);
  let offset = 0;
  const [sentenceVectors, contextVectors, chunkVectors] = counts.map((rows): VectorMatrix => {
    const matrix = float32Matrix(values.subarray(offset, offset + rows * dimensions), dimensions);
    offset += rows * dimensions;
    return matrix;
  });
  return {
    sentences: parsed.sentences,
    chunks: parsed.chunks,
    sentenceVectors: sentenceVectors!,
    contextVectors: contextVectors!,
    chunkVectors: chunkVectors!,
    termCounts: await termsOf(folder, parsed),
  };
}

/**
 * Where a shard's word-piece vectors lie, from the piece counts at the head of its file, or
 * undefined when it keeps none; the vectors stay on disk (about 12 KB a sentence) until a question
 * re-ranks the sentence. Only an index that answers needs this (the graph's writer does not).
 */
export async function readShardTokens(folder: string, sentences: number, dimensions: number): Promise<ShardTokens | undefined> {
  const file = path.join(folder, TOKENS_FILE);
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (handle === undefined) return undefined;
  try {
    const head = new Uint8Array(sentences * 4);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const layout = tokenLayout(head.subarray(0, bytesRead), sentences, dimensions, file);
    const { size } = await handle.stat();
    if (size !== layout.bytes) throw new RangeError(`${file} holds ${size} bytes, not the ${layout.bytes} its piece counts call for`);
    return { file, layout };
  } catch (error) {
    throw new ShardFormatError((error as Error).message);
  } finally {
    await handle.close();
  }
}

/** Reads a shard from its Vectra files alone. */
async function readVectraShard(folder: string, dimensions: number): Promise<LoadedShard> {
  const chunks: { record: ChunkRecord; vector: number[] }[] = [];
  const sentences: { record: SentenceRecord; vector: number[] }[] = [];
  const contexts = new Map<number, number[]>();
  const parts = (await readdir(folder)).filter((name) => name.startsWith('part-')).sort();
  const { LocalIndex } = await vectra();
  for (const part of parts) {
    for (const item of await new LocalIndex<Metadata>(path.join(folder, part)).listItems()) {
      const parsed = itemMetadata.safeParse(item.metadata);
      if (!parsed.success) throw new ShardFormatError(`${path.join(folder, part)}: item ${item.id} is not a Docent record`);
      const { kind, ...record } = parsed.data;
      if (kind === 'chunk') chunks.push({ record: record as ChunkRecord, vector: item.vector });
      else if (kind === 'sentence') sentences.push({ record: record as SentenceRecord, vector: item.vector });
      else contexts.set(parsed.data.sentence, item.vector);
    }
    await yieldToEventLoop();
  }
  chunks.sort((a, b) => a.record.chunk - b.record.chunk);
  sentences.sort((a, b) => a.record.sentence - b.record.sentence);
  const contextVectors = sentences.map(({ record }) => {
    const vector = contexts.get(record.sentence);
    if (vector === undefined) throw new ShardFormatError(`${folder}: sentence ${record.sentence} has no context vector`);
    return vector;
  });
  const matrix = (vectors: number[][]) => {
    const values = new Float32Array(vectors.length * dimensions);
    vectors.forEach((vector, row) => {
      if (vector.length !== dimensions) throw new ShardFormatError(`${folder}: a vector has ${vector.length} numbers, not ${dimensions}`);
      values.set(vector, row * dimensions);
    });
    return float32Matrix(values, dimensions);
  };
  return {
    chunks: chunks.map((entry) => entry.record),
    chunkVectors: matrix(chunks.map((entry) => entry.vector)),
    sentences: sentences.map((entry) => entry.record),
    sentenceVectors: matrix(sentences.map((entry) => entry.vector)),
    contextVectors: matrix(contextVectors),
    termCounts: termCounts(sentences.map((entry) => entry.record)),
  };
}
