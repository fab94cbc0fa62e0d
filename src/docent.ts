import { composeAnswer } from './answer/composeAnswer.ts';
import { CHUNKER_VERSION } from './chunks/chunkSource.ts';
import type { Answer, AskOptions } from './answer/types.ts';
import type { EngineConfig } from './config/schema.ts';
import { loadEmbedder, type Embedder } from './embeddings/embedder.ts';
import { fittedModels } from './fitted/fitted.ts';
import { MANIFEST_VERSION, type IndexedSource } from './index/manifest.ts';
import { openIndex } from './index/openIndex.ts';
import { reindex, type ReindexProgress, type ReindexSummary } from './index/reindex.ts';
import { buildSearchIndex, type SearchIndex } from './retrieval/searchIndex.ts';
import { search } from './retrieval/search.ts';

export interface DocentHooks {
  /** One-line status messages (model preparation, index building). */
  readonly log?: (message: string) => void;
  readonly onProgress?: (progress: ReindexProgress) => void;
}

export interface ReindexRequest {
  readonly force?: boolean;
  readonly onProgress?: (progress: ReindexProgress) => void;
}

/**
 * The answer engine as the CLI and the Discord bot see it: ask, list sources, re-index.
 * It knows nothing about either front end. A re-index swaps the new index in only once it is
 * complete; questions asked meanwhile are answered from the previous one.
 */
export interface Docent {
  ask(question: string, options?: AskOptions): Promise<Answer>;
  sources(): { sources: IndexedSource[]; builtAt?: string };
  reindex(options?: ReindexRequest): Promise<ReindexSummary>;
  close(): Promise<void>;
}

/** The embedding model the configuration names. */
export function embedderFor(config: EngineConfig, log?: (message: string) => void): Promise<Embedder> {
  return loadEmbedder({ modelId: config.MODEL_ID, cacheDir: config.MODEL_CACHE_DIR, batchSize: config.EMBED_BATCH_SIZE, log });
}

/** A re-index of the configured sources into the configured index folder. */
export function reindexFromConfig(
  config: EngineConfig,
  embedder: Embedder,
  options: ReindexRequest = {},
): Promise<ReindexSummary> {
  return reindex({
    sourcesDir: config.SOURCES_DIR,
    indexDir: config.INDEX_DIR,
    maxSourceBytes: config.MAX_SOURCE_BYTES,
    overlapSentences: config.CHUNK_OVERLAP_SENTENCES,
    embedder,
    force: options.force,
    onProgress: options.onProgress,
  });
}

export class IndexMismatchError extends Error {
  override name = 'IndexMismatchError';
}

export async function openDocent(config: EngineConfig, hooks: DocentHooks = {}, embedder?: Embedder): Promise<Docent> {
  const fitted = fittedModels();
  const model = embedder ?? (await embedderFor(config, hooks.log));
  let serving: { index: SearchIndex; builtAt: string; sources: IndexedSource[] } | undefined;

  async function load(): Promise<'loaded' | 'missing' | 'outdated'> {
    const generation = await openIndex(config.INDEX_DIR);
    if (generation === undefined) return 'missing';
    const { settings } = generation.manifest;
    if (settings.modelId !== model.modelId || settings.dimensions !== model.dimensions) {
      throw new IndexMismatchError(
        `The index in ${config.INDEX_DIR} was built with ${settings.modelId}, but MODEL_ID is ${model.modelId}. Run \`npm run index\` to rebuild it.`,
      );
    }
    if (settings.chunkerVersion !== CHUNKER_VERSION || generation.manifest.version !== MANIFEST_VERSION) {
      // Ranking reads vectors and tags an older index lacks, so it is rebuilt before serving.
      hooks.log?.(`The index in ${config.INDEX_DIR} was built by an older version of Docent; rebuilding it…`);
      return 'outdated';
    }
    serving = { index: buildSearchIndex(generation), builtAt: generation.manifest.builtAt, sources: generation.manifest.sources };
    return 'loaded';
  }

  async function runReindex(options: ReindexRequest = {}): Promise<ReindexSummary> {
    const summary = await reindexFromConfig(config, model, { force: options.force, onProgress: options.onProgress ?? hooks.onProgress });
    if (summary.updated || serving === undefined) await load();
    return summary;
  }

  const state = await load();
  if (state === 'missing') hooks.log?.(`No index in ${config.INDEX_DIR} yet; building it from ${config.SOURCES_DIR}…`);
  if (state !== 'loaded') await runReindex();

  return {
    async ask(question, options = {}) {
      const current = serving;
      if (current === undefined) throw new Error('No index is loaded.');
      const [vector] = await model.embed([question]);
      const result = search(current.index, question, vector!, fitted.ranking);
      return composeAnswer(question, result, current.index, {
        maxQuotes: config.MAX_QUOTES,
        maxQuoteChars: config.MAX_QUOTE_CHARS,
        offset: options.offset,
        decision: fitted.decision,
      });
    },
    sources: () => ({ sources: serving?.sources ?? [], builtAt: serving?.builtAt }),
    reindex: runReindex,
    close: () => model.dispose(),
  };
}
