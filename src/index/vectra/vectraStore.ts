import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { withIndexLock, type LockHandle } from '../lock.ts';
import type { IndexedSource, IndexSettings, Manifest } from '../manifest.ts';
import { IndexUnreadableError, yieldToEventLoop, type GenerationWriter, type IndexStore, type SourceItems } from '../store.ts';
import { newGenerationName, publishGeneration, readCurrentGeneration, removeStaleGenerations, syncPath, syncTree } from './generations.ts';
import { type AnnShards, AnnReader, writeAnnInOwnProcess } from './ann.ts';
import { readKeywordCounts, writeKeywordCounts } from './keywordCounts.ts';
import { LARGE_ABOVE_SENTENCES, type MemoryIndex, MemoryIndexBuilder } from './memoryIndex.ts';
import { checkShardSize, type PreparedShard, readPreparedShard, readShardTerms, readShardTokens, readTermsJson, typedRecords } from './shards.ts';
import { ShardThread } from './shardThread.ts';

/** Shards read ahead while loading: enough to keep the disk busy, few enough to hold little memory. */
const READ_AHEAD = 4;

/**
 * The embedded store: an index folder of Vectra files.
 *
 *     CURRENT                 names the generation readers use (replaced atomically)
 *     gen-<time>-<id>/        one generation: manifest.json, and shards.json naming a shard per source
 *     shards/<source>-<id>/   one source's records and vectors (see shards.ts)
 *
 * Shards are immutable and shared: a re-index writes shards only for new and changed sources and
 * lists the unchanged ones' shards again, so its cost follows what changed, not the corpus.
 */
const MANIFEST_FILE = 'manifest.json';
const SHARDS_FILE = 'shards.json';
/** The generation's keyword counts summed over its shards (for IDF), so loading need not sum them (see keywordCounts.ts). */
const TERMS_FILE = 'terms.tsv';
/** The same as one JSON object, as generations written before TERMS_FILE kept them. */
const OLD_TERMS_FILE = 'terms.json';
const SHARDS_DIR = 'shards';

const SHARD_NAME = /^[\w-][\w.-]*$/;
/**
 * Source id → shard folder name, every name one that stays inside the shards folder. Checked in
 * one loop: zod's record schema took 25 ms at 6,000 sources, all of it holding the event loop.
 */
const shardList = z.custom<Record<string, string>>((list) => {
  if (typeof list !== 'object' || list === null || Array.isArray(list)) return false;
  for (const key in list) {
    const name = (list as Record<string, unknown>)[key];
    if (typeof name !== 'string' || !SHARD_NAME.test(name)) return false;
  }
  return true;
});

export class IndexReadError extends Error {
  override name = 'IndexReadError';
}

interface Serving<T> {
  readonly value: T;
  /** What CURRENT named. */
  readonly generation: string;
  /** Set when CURRENT's generation could not be read and an earlier one serves. */
  readonly fellBackTo?: { readonly generation: string; readonly reason: string };
}

export class IndexWriteError extends Error {
  override name = 'IndexWriteError';
}

/**
 * A failed write in words that say what to do. Vectra reports a full disk as a bare "Error
 * creating index", so free space is checked whatever the error says.
 */
async function writeFailure(error: unknown, folder: string, sourceId?: string): Promise<IndexWriteError> {
  const what = sourceId ? `the index of ${sourceId} in ${folder}` : folder;
  const space = await statfs(path.dirname(folder)).catch(() => undefined);
  const freeBytes = space ? space.bavail * space.bsize : undefined;
  if ((error as NodeJS.ErrnoException).code === 'ENOSPC' || (freeBytes !== undefined && freeBytes < 16 * 1024 * 1024)) {
    return new IndexWriteError(
      `Could not write ${what}: the disk is full (${((freeBytes ?? 0) / 1024 / 1024).toFixed(0)} MiB free). Free some space and re-index; the index in use is unchanged.`,
    );
  }
  return new IndexWriteError(`Could not write ${what}: ${error instanceof Error ? error.message : String(error)}. The index in use is unchanged.`);
}

/** A generation's summed keyword counts, or undefined when it kept none (written by an older Docent). */
async function readTerms(folder: string): Promise<Map<string, number> | undefined> {
  const counts = await readKeywordCounts(path.join(folder, TERMS_FILE));
  if (counts) return counts;
  const old = await readTermsJson(path.join(folder, OLD_TERMS_FILE));
  return old && new Map(Object.entries(old));
}

/** A read failure in words that name the file. */
function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const file = (error as NodeJS.ErrnoException).path;
  if (code === 'ENOENT' && file) return `${file} is missing`;
  return error instanceof Error ? error.message : String(error);
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

const manifestShape = z.object({
  version: z.number(),
  settings: z.object({
    modelId: z.string(),
    dimensions: z.number().int().positive(),
    chunkerVersion: z.number(),
    chunkMaxTokens: z.number(),
    overlapSentences: z.number(),
  }),
  builtAt: z.string(),
  // Checked as shard records are: a zod object per source held up loading for 50 ms at 6,000 sources.
  sources: typedRecords<IndexedSource>({
    id: 'string',
    path: 'string',
    title: 'string',
    hash: 'string',
    chunks: 'number',
    sentences: 'number',
    indexedAt: 'string',
  }),
});

function parseManifest(json: unknown, folder: string): Manifest {
  const parsed = manifestShape.safeParse(json);
  if (!parsed.success) throw new IndexReadError(`${path.join(folder, MANIFEST_FILE)} is not a Docent manifest`);
  return parsed.data as Manifest;
}

/** A folder name for a source's shard: readable, and unique per write so a killed write never collides. */
function shardName(sourceId: string): string {
  const readable = sourceId.replace(/[^\w.-]+/g, '_').slice(0, 60);
  return `${readable}-${randomBytes(4).toString('hex')}`;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    throw new IndexReadError(`${file} cannot be read: ${(error as Error).message}`);
  }
}

/** INDEX_DIR names something that cannot hold an index. */
export class IndexLocationError extends Error {
  override name = 'IndexLocationError';
  constructor(readonly location: string) {
    super(`${location} is a file, not a folder`);
  }
}

export interface VectraStoreOptions {
  /** Past this many sentences the index is held in int8 and searched through its HNSW graph (tests lower it). */
  readonly largeAbove?: number;
}

export class VectraStore implements IndexStore {
  constructor(
    readonly location: string,
    private readonly options: VectraStoreOptions = {},
  ) {}

  /** A file where the index folder should be is named plainly, rather than failing deep inside a read or write. */
  private async checkLocation(): Promise<void> {
    const info = await stat(this.location).catch(() => undefined);
    if (info && !info.isDirectory()) throw new IndexLocationError(this.location);
  }

  private get shardsDir(): string {
    return path.join(this.location, SHARDS_DIR);
  }

  currentGeneration(): Promise<string | undefined> {
    return readCurrentGeneration(this.location);
  }

  /**
   * Reads the generation CURRENT names with `read`. A re-index may retire a generation between
   * reading CURRENT and reading its files, so a vanished file means "read CURRENT again". When
   * that generation cannot be read (damaged, say, by a power cut before its files reached the
   * disk), the newest earlier generation that can be read serves instead, and says so.
   */
  private async withServing<T>(read: (folder: string) => Promise<T>): Promise<Serving<T> | undefined> {
    for (let attempt = 0; ; attempt++) {
      const generation = await this.currentGeneration();
      if (generation === undefined) return undefined;
      try {
        return { value: await read(path.join(this.location, generation)), generation };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 2 && (await this.currentGeneration()) !== generation) continue;
        const earlier = await this.earlierGenerations(generation);
        for (const candidate of earlier) {
          try {
            const value = await read(path.join(this.location, candidate));
            return { value, generation, fellBackTo: { generation: candidate, reason: (error as Error).message } };
          } catch {
            // Try the one before.
          }
        }
        throw new IndexUnreadableError(this.location, describeFailure(error));
      }
    }
  }

  /** Complete generations other than `current`, newest first (their names start with their time). */
  private async earlierGenerations(current: string): Promise<string[]> {
    const names = (await readdir(this.location).catch(() => [] as string[])).filter((name) => name.startsWith('gen-') && name !== current);
    const complete: string[] = [];
    for (const name of names) if (await exists(path.join(this.location, name, MANIFEST_FILE))) complete.push(name);
    return complete.sort().reverse();
  }

  async readManifest(): Promise<Manifest | undefined> {
    await this.checkLocation();
    return (await this.withServing((folder) => this.readHead(folder)))?.value.manifest;
  }

  private async shardsOf(folder: string): Promise<Record<string, string>> {
    const parsed = shardList.safeParse(await readJson(path.join(folder, SHARDS_FILE)));
    if (!parsed.success) throw new IndexReadError(`${path.join(folder, SHARDS_FILE)} is not a list of shards`);
    return parsed.data;
  }

  /**
   * A generation's manifest and shard list, once every shard it lists is checked to be whole: its
   * vectors file must be as long as its manifest entry calls for. A file cut short (a power cut
   * before it reached the disk) makes the generation unreadable, so neither serving nor a re-index
   * builds on it. The check is a `stat` per source.
   */
  private async readHead(folder: string): Promise<{ manifest: Manifest; shards: Record<string, string> }> {
    const manifest = parseManifest(await readJson(path.join(folder, MANIFEST_FILE)), folder);
    const shards = await this.shardsOf(folder);
    for (const source of manifest.sources) {
      const shard = shards[source.id];
      if (shard === undefined) throw new IndexReadError(`${path.join(folder, SHARDS_FILE)} names no shard for ${source.id}`);
      await checkShardSize(path.join(this.shardsDir, shard), source, manifest.settings.dimensions);
    }
    return { manifest, shards };
  }

  async open(): Promise<MemoryIndex | undefined> {
    const serving = await this.withServing(async (folder) => {
      const { manifest, shards } = await this.readHead(folder);
      const int8 = this.isLarge(manifest);
      const terms = await readTerms(folder);
      const builder = await MemoryIndexBuilder.create(manifest, int8, terms);
      const read = async (position: number) => {
        const source = manifest.sources[position]!;
        const name = shards[source.id];
        if (name === undefined) throw new IndexReadError(`${path.join(folder, SHARDS_FILE)} names no shard for ${source.id}`);
        const into = int8 ? builder.rowsFor(position) : undefined;
        const shardFolder = path.join(this.shardsDir, name);
        const shard = await readPreparedShard(shardFolder, manifest.settings.dimensions, int8, terms === undefined, into);
        const tokens = await readShardTokens(shardFolder, shard.sentences.length, manifest.settings.dimensions);
        return { name, shard: tokens ? { ...shard, tokens } : shard };
      };
      // The next few shards are read from disk while this one is added, so loading rarely waits on the disk.
      const ahead: Promise<{ name: string; shard: PreparedShard }>[] = [];
      let queued = 0;
      const fill = () => {
        while (ahead.length < READ_AHEAD && queued < manifest.sources.length) ahead.push(read(queued++));
      };
      try {
        for (fill(); ahead.length > 0; fill()) {
          const { name, shard } = await ahead.shift()!;
          builder.add(shard, name);
          await yieldToEventLoop();
        }
      } finally {
        // Reads started ahead of a failure are not awaited; their own failures are not worth a crash.
        for (const pending of ahead) pending.catch(() => undefined);
      }
      // Opened once the shards are read, not while: its thread walks every node of the memory-mapped
      // graph, and at a million sentences each load that did so beside the reading had its longest
      // stall (41 to 121 ms) 0.4 to 0.6 s in, as the graph was opened.
      return { builder, ann: int8 ? await AnnReader.open(folder, manifest.settings.dimensions) : undefined };
    });
    if (serving === undefined) return undefined;
    return serving.value.builder.build(serving.generation, serving.fellBackTo, serving.value.ann);
  }

  /**
   * Writes the HNSW graph of the current generation if it has none, so that it is searched as a
   * large index is (the eval measures graph search on its small corpora this way).
   */
  async ensureGraph(): Promise<void> {
    await this.exclusive(async () => {
      const serving = await this.withServing(async (folder) => ({ folder, head: await this.readHead(folder) }));
      if (serving === undefined) return;
      const existing = await AnnReader.open(serving.value.folder, serving.value.head.manifest.settings.dimensions);
      await existing?.close();
      if (existing) return;
      const { folder, head } = serving.value;
      const { dimensions } = head.manifest.settings;
      await writeAnnInOwnProcess(folder, dimensions, this.graphShards(Object.values(head.shards)), undefined);
      await syncTree(folder);
    });
  }

  /** A large generation is held in int8 and searched through its HNSW graph. */
  private isLarge(manifest: Manifest): boolean {
    return manifest.sources.reduce((sum, source) => sum + source.sentences, 0) > (this.options.largeAbove ?? LARGE_ABOVE_SENTENCES);
  }

  private graphShards(names: readonly string[]): AnnShards {
    return { dir: this.shardsDir, names };
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await this.checkLocation();
    return withIndexLock(this.location, async (lock) => {
      this.lock = lock;
      try {
        return await work();
      } finally {
        this.lock = undefined;
      }
    });
  }

  /** The lock of the write in progress: a writer that lost it to another must not publish or clean up. */
  private lock: LockHandle | undefined;

  async begin(_settings: IndexSettings): Promise<GenerationWriter> {
    await mkdir(this.location, { recursive: true });
    await this.removeLeftovers();
    const current = await this.currentGeneration();
    // The generation that serves (an earlier one if CURRENT's cannot be read) donates its shards.
    const serving = await this.withServing((at) => this.readHead(at)).catch(() => undefined);
    const previous = serving?.value.shards ?? {};
    const previousFolder = serving && path.join(this.location, serving.fellBackTo?.generation ?? serving.generation);
    const shards: Record<string, string> = {};
    const written: string[] = [];
    const addedTerms = new Map<string, number>();
    const generation = newGenerationName();
    const folder = path.join(this.location, generation);
    await mkdir(this.shardsDir, { recursive: true });
    const shardThread = new ShardThread();
    return {
      carryOver: async (sourceId) => {
        const shard = previous[sourceId];
        if (shard === undefined) throw new IndexReadError(`The current index has no shard for ${sourceId} to carry over.`);
        shards[sourceId] = shard;
      },
      put: async (items: SourceItems) => {
        const shard = shardName(items.sourceId);
        written.push(shard);
        const shardFolder = path.join(this.shardsDir, shard);
        try {
          await shardThread.write(shardFolder, items);
        } catch (error) {
          throw await writeFailure(error, shardFolder, items.sourceId);
        }
        shards[items.sourceId] = shard;
        for (const [term, count] of Object.entries(items.termCounts)) addedTerms.set(term, (addedTerms.get(term) ?? 0) + count);
      },
      commit: async (manifest) => {
        await shardThread.close();
        const { dimensions } = manifest.settings;
        const terms = await this.mergedTerms(dimensions, { folder: previousFolder, shards: previous }, shards, written, addedTerms);
        try {
          await mkdir(folder, { recursive: true });
          await writeFile(path.join(folder, SHARDS_FILE), JSON.stringify(shards));
          await writeKeywordCounts(path.join(folder, TERMS_FILE), terms);
          if (this.isLarge(manifest)) {
            await writeAnnInOwnProcess(folder, dimensions, this.graphShards(Object.values(shards)), previousFolder);
          }
          // The manifest is written last: a generation folder without one was never finished.
          await writeFile(path.join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
          // Everything on disk before CURRENT names it, so a power cut cannot publish a generation whose files are lost.
          await syncTree(folder);
          await syncPath(this.shardsDir);
          await syncPath(this.location);
        } catch (error) {
          throw await writeFailure(error, folder);
        }
        if (this.lock && !this.lock.held()) {
          throw new IndexWriteError(`This re-index stalled and another took over ${this.location}; it published nothing, and the other one's index stands.`);
        }
        await publishGeneration(this.location, generation);
        await this.retire(current ? [generation, current] : [generation]);
      },
      abort: async () => {
        await shardThread.close();
        await Promise.all([folder, ...written.map((shard) => path.join(this.shardsDir, shard))].map((target) => rm(target, { recursive: true, force: true })));
      },
    };
  }

  /**
   * The generation's keyword counts, summed over its shards, so loading need not sum them: the
   * previous generation's sum less the shards it drops plus the ones written now, or, when the
   * previous generation kept no sum, every carried shard's counts read back.
   */
  private async mergedTerms(
    dimensions: number,
    previous: { folder: string | undefined; shards: Record<string, string> },
    shards: Record<string, string>,
    written: readonly string[],
    added: ReadonlyMap<string, number>,
  ): Promise<Map<string, number>> {
    const kept = new Set(Object.values(shards));
    const fresh = new Set(written);
    const previousSum = previous.folder ? await readTerms(previous.folder) : undefined;
    const terms = previousSum ?? new Map<string, number>();
    const apply = async (shard: string, sign: number) => {
      for (const [term, count] of Object.entries(await readShardTerms(path.join(this.shardsDir, shard), dimensions)))
        terms.set(term, (terms.get(term) ?? 0) + sign * count);
      await yieldToEventLoop();
    };
    if (previousSum) {
      for (const shard of new Set(Object.values(previous.shards))) if (!kept.has(shard)) await apply(shard, -1);
    } else {
      for (const shard of kept) if (!fresh.has(shard)) await apply(shard, 1);
    }
    for (const [term, count] of added) terms.set(term, (terms.get(term) ?? 0) + count);
    return terms;
  }

  /**
   * Removes what interrupted writes left behind, and points CURRENT back at the generation that
   * serves when the one it names cannot be read.
   */
  async tidy(): Promise<void> {
    await this.removeLeftovers();
    const serving = await this.withServing((folder) => this.readHead(folder)).catch(() => undefined);
    if (serving?.fellBackTo) await publishGeneration(this.location, serving.fellBackTo.generation);
  }

  /**
   * Generation folders a write never finished (no manifest), temporary pointer files, and shards
   * no finished generation lists: a killed or failed write leaves these, and on a full disk they
   * would keep it full.
   */
  private async removeLeftovers(): Promise<void> {
    const names = await readdir(this.location).catch(() => [] as string[]);
    const finished: string[] = [];
    for (const name of names) {
      if (name.startsWith('gen-') && (await exists(path.join(this.location, name, MANIFEST_FILE)))) finished.push(name);
      else if (name.startsWith('gen-') || /^CURRENT\..+\.tmp$/.test(name)) await rm(path.join(this.location, name), { recursive: true, force: true });
    }
    await this.removeUnlistedShards(finished);
  }

  private async removeUnlistedShards(generations: readonly string[]): Promise<void> {
    const needed = new Set<string>();
    for (const generation of generations) {
      const listed = await this.shardsOf(path.join(this.location, generation)).catch(() => ({}));
      for (const shard of Object.values(listed)) needed.add(shard);
    }
    const present = await readdir(this.shardsDir).catch(() => [] as string[]);
    await Promise.all(present.filter((shard) => !needed.has(shard)).map((shard) => rm(path.join(this.shardsDir, shard), { recursive: true, force: true })));
  }

  /** Removes generations other than `keep`, and shards none of them lists. */
  async retire(keep: readonly string[]): Promise<void> {
    await removeStaleGenerations(this.location, keep);
    await this.removeUnlistedShards(keep);
  }

  async close(): Promise<void> {}
}
