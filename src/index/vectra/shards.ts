import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalIndex } from 'vectra';
import { z } from 'zod';
import { yieldToEventLoop, type ChunkRecord, type SentenceRecord, type SourceItems } from '../store.ts';

/**
 * A shard holds one source: its chunks and sentences as Vectra `LocalIndex` folders of at most
 * PART_ITEMS items each, plus the source's keyword counts. Bounded parts keep every file far below
 * V8's longest string, and Vectra's insert (which checks each id against all earlier ones) linear
 * in the corpus: the check only ever runs within one part.
 */
const PART_ITEMS = 2048;
/** Inserts between turns given back to the event loop. */
const INSERTS_PER_TURN = 256;
const KEYWORDS_FILE = 'keywords.json';

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
const keywordsFile = z.object({ sentences: z.number().int(), terms: z.record(z.string(), z.number().int()) });

export class ShardFormatError extends Error {
  override name = 'ShardFormatError';
}

/** A shard as read back: records in order, vectors as flat matrices (one row per record). */
export interface LoadedShard {
  readonly chunks: ChunkRecord[];
  readonly chunkVectors: Float32Array;
  readonly sentences: SentenceRecord[];
  readonly sentenceVectors: Float32Array;
  readonly contextVectors: Float32Array;
  readonly termCounts: Readonly<Record<string, number>>;
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
  for (const { record, vector } of items.sentences) yield { id: `sentence:${record.sentence}`, vector: compact(vector), metadata: { kind: 'sentence', ...record } };
  for (const { record, context } of items.sentences) yield { id: `context:${record.sentence}`, vector: compact(context), metadata: { kind: 'context', sentence: record.sentence } };
}

const partName = (part: number) => `part-${String(part).padStart(3, '0')}`;

export async function writeShard(folder: string, items: SourceItems): Promise<void> {
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
  const keywords: z.infer<typeof keywordsFile> = { sentences: items.sentences.length, terms: { ...items.termCounts } };
  await writeFile(path.join(folder, KEYWORDS_FILE), JSON.stringify(keywords));
}

function flatten(vectors: readonly number[][], dimensions: number, what: string): Float32Array {
  const matrix = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => {
    if (vector.length !== dimensions) throw new ShardFormatError(`${what}: a vector has ${vector.length} numbers, not ${dimensions}`);
    matrix.set(vector, row * dimensions);
  });
  return matrix;
}

export async function readShard(folder: string, dimensions: number): Promise<LoadedShard> {
  const chunks: { record: ChunkRecord; vector: number[] }[] = [];
  const sentences: { record: SentenceRecord; vector: number[] }[] = [];
  const contexts = new Map<number, number[]>();
  const parts = (await readdir(folder)).filter((name) => name.startsWith('part-')).sort();
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
  const keywords = keywordsFile.safeParse(JSON.parse(await readFile(path.join(folder, KEYWORDS_FILE), 'utf8')));
  if (!keywords.success) throw new ShardFormatError(`${path.join(folder, KEYWORDS_FILE)} is not a keyword count file`);
  return {
    chunks: chunks.map((entry) => entry.record),
    chunkVectors: flatten(chunks.map((entry) => entry.vector), dimensions, folder),
    sentences: sentences.map((entry) => entry.record),
    sentenceVectors: flatten(sentences.map((entry) => entry.vector), dimensions, folder),
    contextVectors: flatten(contextVectors, dimensions, folder),
    termCounts: keywords.data.terms,
  };
}
