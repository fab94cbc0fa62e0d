import path from 'node:path';
import { cliConfig, stderrLog } from '../cli/context.ts';
import { progressRenderer } from '../cli/progress.ts';
import { reindexFromConfig } from '../docent.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { openIndex } from '../index/openIndex.ts';
import { buildSearchIndex, type SearchIndex } from '../retrieval/searchIndex.ts';

/**
 * The index of one evaluation corpus, built with the real pipeline (the same re-index the CLI and
 * bot run) into `.cache/eval/<name>` and re-used while the articles and Docent's settings match.
 */
export async function openCorpus(name: string, articlesDir: string, embedder: Embedder, cacheDir = path.join('.cache', 'eval')): Promise<SearchIndex> {
  const indexDir = path.join(cacheDir, name.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  const config = cliConfig({ SOURCES_DIR: articlesDir, INDEX_DIR: indexDir });
  const progress = progressRenderer();
  const summary = await reindexFromConfig(config, embedder, { onProgress: progress.onProgress });
  progress.stop();
  const generation = await openIndex(indexDir);
  if (!generation) throw new Error(`The eval index in ${indexDir} could not be opened.`);
  const index = buildSearchIndex(generation);
  stderrLog(`${name}: ${index.sources.size} articles, ${index.chunks.length} chunks, ${index.sentences.length} sentences (${summary.updated ? 'indexed' : 'reused'}).`);
  return index;
}
