import path from 'node:path';
import { cliConfig, stderrLog } from '../cli/context.ts';
import { progressRenderer } from '../cli/progress.ts';
import { reindexFromConfig } from '../docent.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { PostgresStore } from '../index/postgres/postgresStore.ts';
import type { IndexReader } from '../index/store.ts';
import type { MemoryIndex } from '../index/vectra/memoryIndex.ts';
import { VectraStore } from '../index/vectra/vectraStore.ts';

/**
 * The index of one evaluation corpus, built with the real pipeline (the same re-index the CLI and
 * bot run) into `.cache/eval/<name>` and re-used while the articles and Docent's settings match.
 * Held in memory, so the baselines can read every sentence and vector. With `graph`, searched as a
 * large index is: candidates from its HNSW graph, then scored exactly.
 */
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

export async function openCorpus(
  name: string,
  articlesDir: string,
  embedder: Embedder,
  options: { graph?: boolean; cacheDir?: string } = {},
): Promise<MemoryIndex> {
  const indexDir = path.join(options.cacheDir ?? path.join('.cache', 'eval'), slug(name));
  const config = cliConfig({ SOURCES_DIR: articlesDir, INDEX_DIR: indexDir });
  const store = new VectraStore(indexDir, options.graph ? { largeAbove: 0 } : {});
  const progress = progressRenderer();
  const summary = await reindexFromConfig(config, embedder, store, { onProgress: progress.onProgress });
  progress.stop();
  if (options.graph) await store.ensureGraph();
  const index = await store.open();
  if (!index) throw new Error(`The eval index in ${indexDir} could not be opened.`);
  stderrLog(
    `${name}: ${index.sources.size} articles, ${index.chunks.length} chunks, ${index.sentences.length} sentences (${summary.updated ? 'indexed' : 'reused'}).`,
  );
  return index;
}

/**
 * The same corpus indexed into PostgreSQL (a schema of its own per corpus) with the same
 * pipeline, so the eval can compare the stores on identical questions.
 */
export async function openPostgresCorpus(
  name: string,
  articlesDir: string,
  embedder: Embedder,
  databaseUrl: string,
): Promise<{ reader: IndexReader; close(): Promise<void> }> {
  const config = cliConfig({ SOURCES_DIR: articlesDir });
  const store = new PostgresStore(databaseUrl, { schema: `docent_eval_${slug(name).replace(/-/g, '_')}` });
  const progress = progressRenderer();
  await reindexFromConfig(config, embedder, store, { onProgress: progress.onProgress });
  progress.stop();
  const reader = await store.open();
  if (!reader) throw new Error(`The eval index of ${name} in ${store.location} could not be opened.`);
  return { reader, close: () => store.close() };
}
