import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { withIndexLock } from '../lock.ts';
import type { IndexSettings, Manifest } from '../manifest.ts';
import { yieldToEventLoop, type GenerationWriter, type IndexStore, type SourceItems } from '../store.ts';
import { newGenerationName, publishGeneration, readCurrentGeneration, removeStaleGenerations } from './generations.ts';
import { MemoryIndex } from './memoryIndex.ts';
import { readShard, writeShard, type LoadedShard } from './shards.ts';

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
const SHARDS_DIR = 'shards';

const shardList = z.record(z.string(), z.string().regex(/^[\w.-]+$/));

export class IndexReadError extends Error {
  override name = 'IndexReadError';
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

export class VectraStore implements IndexStore {
  constructor(readonly location: string) {}

  private get shardsDir(): string {
    return path.join(this.location, SHARDS_DIR);
  }

  currentGeneration(): Promise<string | undefined> {
    return readCurrentGeneration(this.location);
  }

  /**
   * Reads the current generation with `read`. A re-index may retire a generation between reading
   * CURRENT and reading its files, so a vanished file means "read CURRENT again".
   */
  private async withCurrent<T>(read: (generation: string, folder: string) => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const generation = await this.currentGeneration();
      if (generation === undefined) return undefined;
      try {
        return await read(generation, path.join(this.location, generation));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw error;
      }
    }
  }

  readManifest(): Promise<Manifest | undefined> {
    return this.withCurrent(async (_, folder) => (await readJson(path.join(folder, MANIFEST_FILE))) as Manifest);
  }

  private async shardsOf(folder: string): Promise<Record<string, string>> {
    const parsed = shardList.safeParse(await readJson(path.join(folder, SHARDS_FILE)));
    if (!parsed.success) throw new IndexReadError(`${path.join(folder, SHARDS_FILE)} is not a list of shards`);
    return parsed.data;
  }

  open(): Promise<MemoryIndex | undefined> {
    return this.withCurrent(async (generation, folder) => {
      const manifest = (await readJson(path.join(folder, MANIFEST_FILE))) as Manifest;
      const shards = await this.shardsOf(folder);
      const loaded: LoadedShard[] = [];
      for (const source of manifest.sources) {
        const shard = shards[source.id];
        if (shard === undefined) throw new IndexReadError(`${path.join(folder, SHARDS_FILE)} names no shard for ${source.id}`);
        loaded.push(await readShard(path.join(this.shardsDir, shard), manifest.settings.dimensions));
        await yieldToEventLoop();
      }
      return new MemoryIndex(generation, manifest, loaded);
    });
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return withIndexLock(this.location, work);
  }

  async begin(_settings: IndexSettings): Promise<GenerationWriter> {
    const current = await this.currentGeneration();
    // An unreadable current generation donates nothing; its sources are embedded afresh.
    const previous = current ? await this.shardsOf(path.join(this.location, current)).catch(() => ({}) as Record<string, string>) : {};
    const shards: Record<string, string> = {};
    const written: string[] = [];
    const generation = newGenerationName();
    const folder = path.join(this.location, generation);
    await mkdir(this.shardsDir, { recursive: true });
    return {
      carryOver: async (sourceId) => {
        const shard = previous[sourceId];
        if (shard === undefined) throw new IndexReadError(`The current index has no shard for ${sourceId} to carry over.`);
        shards[sourceId] = shard;
      },
      put: async (items: SourceItems) => {
        const shard = shardName(items.sourceId);
        written.push(shard);
        await writeShard(path.join(this.shardsDir, shard), items);
        shards[items.sourceId] = shard;
      },
      commit: async (manifest) => {
        await mkdir(folder, { recursive: true });
        await writeFile(path.join(folder, SHARDS_FILE), JSON.stringify(shards));
        // The manifest is written last: a generation folder without one was never finished.
        await writeFile(path.join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
        await publishGeneration(this.location, generation);
        await this.retire(current ? [generation, current] : [generation]);
      },
      abort: async () => {
        await Promise.all([folder, ...written.map((shard) => path.join(this.shardsDir, shard))].map((target) => rm(target, { recursive: true, force: true })));
      },
    };
  }

  async tidy(): Promise<void> {
    const current = await this.currentGeneration();
    await this.retire(current ? [current] : []);
  }

  /** Removes generations other than `keep`, and shards none of them lists. */
  async retire(keep: readonly string[]): Promise<void> {
    await removeStaleGenerations(this.location, keep);
    const needed = new Set<string>();
    for (const generation of keep) {
      const listed = await this.shardsOf(path.join(this.location, generation)).catch(() => ({}));
      for (const shard of Object.values(listed)) needed.add(shard);
    }
    const present = await readdir(this.shardsDir).catch(() => [] as string[]);
    await Promise.all(present.filter((shard) => !needed.has(shard)).map((shard) => rm(path.join(this.shardsDir, shard), { recursive: true, force: true })));
  }

  async close(): Promise<void> {}
}
