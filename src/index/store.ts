import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalIndex, type IndexItem } from 'vectra';
import type { Manifest } from './manifest.ts';

/** A chunk as stored in Vectra: what retrieval ranks. Offsets point into the source file's text. */
export interface ChunkRecord {
  readonly kind: 'chunk';
  readonly sourceId: string;
  readonly chunk: number;
  readonly start: number;
  readonly end: number;
  readonly firstSentence: number;
  readonly lastSentence: number;
  readonly text: string;
}

/** A sentence as stored in Vectra: what quotes are made of. */
export interface SentenceRecord {
  readonly kind: 'sentence';
  readonly sourceId: string;
  readonly sentence: number;
  readonly start: number;
  readonly end: number;
  /** 1-based line of the file where the sentence starts. */
  readonly line: number;
  readonly text: string;
  /** Named entities, numbers and dates in the sentence, as `answerTypes.entityMentions` writes them. */
  readonly entities: string;
}

/**
 * A sentence read in its article's context (`title. sentence`): a second vector for the sentence,
 * so a line that never names its topic is still found by a question that does.
 */
export interface ContextRecord {
  readonly kind: 'context';
  readonly sourceId: string;
  readonly sentence: number;
  /** What was embedded; never quoted. */
  readonly text: string;
}

export type IndexRecord = ChunkRecord | SentenceRecord | ContextRecord;

export interface StoredItem<R extends IndexRecord = IndexRecord> {
  readonly record: R;
  readonly vector: readonly number[];
}

const MANIFEST_FILE = 'manifest.json';

/** Six decimals keep cosine similarity exact to ~1e-6 and halve index.json. */
function compact(vector: readonly number[]): number[] {
  return vector.map((value) => Math.round(value * 1e6) / 1e6);
}

function itemId(record: IndexRecord): string {
  return `${record.kind}:${record.sourceId}#${record.kind === 'chunk' ? record.chunk : record.sentence}`;
}

/** Writes one complete generation folder: Vectra's index plus Docent's manifest, written last. */
export async function writeGeneration(folder: string, items: readonly StoredItem[], manifest: Manifest): Promise<void> {
  await mkdir(folder, { recursive: true });
  const index = new LocalIndex<Record<string, string | number>>(folder);
  await index.createIndex({ version: 1, deleteIfExists: true });
  await index.beginUpdate();
  for (const { record, vector } of items) {
    await index.insertItem({ id: itemId(record), vector: compact(vector), metadata: { ...record } });
  }
  await index.endUpdate();
  await writeFile(path.join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export interface Generation {
  readonly manifest: Manifest;
  readonly vectra: LocalIndex<Record<string, string | number>>;
  readonly items: StoredItem[];
}

export async function readManifest(folder: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(folder, MANIFEST_FILE), 'utf8')) as Manifest;
}

export async function readGeneration(folder: string): Promise<Generation> {
  const manifest = await readManifest(folder);
  const vectra = new LocalIndex<Record<string, string | number>>(folder);
  const items = (await vectra.listItems()).map((item: IndexItem<Record<string, string | number>>) => ({
    record: item.metadata as unknown as IndexRecord,
    vector: item.vector,
  }));
  return { manifest, vectra, items };
}
