import { composeAnswer } from './answer/composeAnswer.ts';
import { CHUNKER_VERSION } from './chunks/chunkSource.ts';
import type { Answer, AskOptions } from './answer/types.ts';
import type { EngineConfig } from './config/schema.ts';
import { commonWordTest, embedQuestions, loadEmbedder, type Embedder, type ModelEvent } from './embeddings/embedder.ts';
import { offThreadEmbedder } from './embeddings/offThread.ts';
import { fittedModels } from './fitted/fitted.ts';
import { MANIFEST_VERSION, type IndexedSource, type Manifest } from './index/manifest.ts';
import { openStore } from './index/openStore.ts';
import { reindex, type ReindexProgress, type ReindexSummary } from './index/reindex.ts';
import { IndexUnreadableError, type IndexReader, type IndexStore } from './index/store.ts';
import { type EntityTagger, entityTaggerThread } from './index/tagThread.ts';
import { search } from './retrieval/search.ts';
import { appendGap, gapReport, type GapReport } from './gaps/report.ts';
import { addSource, removeSource, type AddedSource, type RemovedSource, type SourceInput } from './sources/admin.ts';
import type { FetchNetwork } from './sources/fetch/fetchDocument.ts';
import { systemNetwork } from './sources/fetch/network.ts';

/** What the front ends use, in one place: they import the engine through this file only. */
export type { Answer, AskOptions, NoQuotesReason, Quote } from './answer/types.ts';
export type { IndexedSource } from './index/manifest.ts';
export type { ReindexProgress, ReindexSummary } from './index/reindex.ts';
export type { SourceProblem } from './sources/types.ts';
export { IndexBusyError } from './index/lock.ts';
export { IndexLocationError, IndexWriteError } from './index/vectra/vectraStore.ts';
export { ModelLoadError } from './embeddings/embedder.ts';
export { SourcesNotFoundError } from './sources/loadSources.ts';
export type { AddedSource, RemovedSource, SourceInput } from './sources/admin.ts';
export type { NewDocument } from './sources/library.ts';
export { AddSourceError, terminalUser } from './sources/admin.ts';
export type { GapReport } from './gaps/report.ts';
export type { GapTopic } from './gaps/groupGaps.ts';
export { FetchError } from './sources/fetch/fetchDocument.ts';
export { SourceError } from './sources/parseSource.ts';
export { UnknownSourceError } from './sources/library.ts';

/** What the engine reports while it works, for a front end to put in words. */
export type EngineEvent =
  | ModelEvent
  /** No index yet, one an older Docent wrote, or one that cannot be read (`reason`): it is built before answering. */
  | {
      readonly kind: 'building-index';
      readonly because: 'missing' | 'outdated' | 'unreadable';
      readonly location: string;
      readonly sourcesDir: string;
      readonly reason?: string;
    }
  /** The current generation could not be read; an earlier, intact one serves until the next re-index. */
  | { readonly kind: 'index-fell-back'; readonly location: string; readonly generation: string; readonly reason: string };

export interface DocentHooks {
  readonly onEvent?: (event: EngineEvent) => void;
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
  /** Declined and low-confidence first answers go to GAPS_LOG, with the front end's (hashed) `asker`. */
  ask(question: string, options?: AskOptions & { readonly asker?: string }): Promise<Answer>;
  sources(): { sources: IndexedSource[]; builtAt?: string };
  reindex(options?: ReindexRequest): Promise<ReindexSummary>;
  /** Adds an article (a file or a public web page) to the sources folder and indexes it; `who` goes to the audit log. */
  addSource(input: SourceInput, who: string): Promise<AddedSource>;
  /** Moves an article to the sources folder's `.removed/` and re-indexes; `who` goes to the audit log. */
  removeSource(id: string, who: string): Promise<RemovedSource>;
  /** What the sources missed since `since`: unanswered questions grouped by topic, and "Not helpful" votes. */
  gaps(since: Date): Promise<GapReport>;
  close(): Promise<void>;
}

const embedderSettings = (config: EngineConfig) => ({
  modelId: config.MODEL_ID,
  cacheDir: config.MODEL_CACHE_DIR,
  batchSize: config.EMBED_BATCH_SIZE,
  hubUrl: config.MODEL_HUB_URL,
});

/** The embedding model the configuration names. */
export function embedderFor(config: EngineConfig, onEvent?: (event: ModelEvent) => void): Promise<Embedder> {
  return loadEmbedder({ ...embedderSettings(config), onEvent });
}

/** A re-index of the configured sources into the configured store. */
export function reindexFromConfig(
  config: EngineConfig,
  embedder: Embedder,
  store: IndexStore,
  options: ReindexRequest = {},
  tagger?: EntityTagger,
): Promise<ReindexSummary> {
  return reindex({
    sourcesDir: config.SOURCES_DIR,
    store,
    maxSourceBytes: config.MAX_SOURCE_BYTES,
    overlapSentences: config.CHUNK_OVERLAP_SENTENCES,
    embedder,
    tagger,
    force: options.force,
    onProgress: options.onProgress,
  });
}

/** The serving index's manifest (what is indexed), without loading the model or any vectors. */
export async function readIndexManifest(config: EngineConfig): Promise<Manifest | undefined> {
  const store = openStore(config);
  try {
    return await store.readManifest();
  } finally {
    await store.close();
  }
}

/** Runs a re-index with a store opened for it alone. */
export async function reindexWithConfig(config: EngineConfig, embedder: Embedder, options: ReindexRequest = {}): Promise<ReindexSummary> {
  const store = openStore(config);
  try {
    return await reindexFromConfig(config, embedder, store, options);
  } finally {
    await store.close();
  }
}

/** The index was built with another embedding model than the one configured. */
export class IndexMismatchError extends Error {
  override name = 'IndexMismatchError';
  constructor(
    readonly location: string,
    readonly builtWith: string,
    readonly configured: string,
  ) {
    super(`The index in ${location} was built with ${builtWith}, not the configured ${configured}.`);
  }
}

export interface DocentOptions {
  /**
   * Re-index with a second copy of the model on a thread of its own, and entities tagged on
   * another, so questions keep being answered promptly meanwhile (the bot sets this; a one-shot CLI run does not need it).
   */
  readonly indexOffThread?: boolean;
  /** How `addSource` reaches the web; tests hand in one that records instead of connecting. */
  readonly network?: FetchNetwork;
}

export async function openDocent(config: EngineConfig, hooks: DocentHooks = {}, embedder?: Embedder, options: DocentOptions = {}): Promise<Docent> {
  const fitted = fittedModels();
  const model = embedder ?? (await embedderFor(config, hooks.onEvent));
  const indexer = options.indexOffThread ? offThreadEmbedder(model, embedderSettings(config)) : model;
  const tagger = options.indexOffThread ? entityTaggerThread() : undefined;
  const store = openStore(config);
  type LoadState = 'loaded' | 'missing' | 'outdated' | { unreadable: string };
  let serving: IndexReader | undefined;
  let loading: Promise<LoadState> | undefined;

  async function load(): Promise<LoadState> {
    try {
      return await loadServing();
    } catch (error) {
      if (error instanceof IndexUnreadableError) return { unreadable: error.reason };
      throw error;
    }
  }

  async function loadServing(): Promise<LoadState> {
    const manifest = await store.readManifest();
    if (manifest === undefined) return 'missing';
    const { settings } = manifest;
    if (settings.modelId !== model.modelId || settings.dimensions !== model.dimensions) {
      throw new IndexMismatchError(store.location, settings.modelId, model.modelId);
    }
    // Ranking reads vectors and tags an older index lacks, so it is rebuilt before serving.
    if (settings.chunkerVersion !== CHUNKER_VERSION || manifest.version !== MANIFEST_VERSION) return 'outdated';
    const reader = await store.open();
    if (reader === undefined) return 'missing';
    if (reader.fellBackTo && reader.generation !== serving?.generation) {
      hooks.onEvent?.({ kind: 'index-fell-back', location: store.location, generation: reader.fellBackTo.generation, reason: reader.fellBackTo.reason });
    }
    const previous = serving;
    serving = reader;
    await previous?.close();
    return 'loaded';
  }

  /** One load at a time: questions arriving together share it. */
  function reload(): Promise<LoadState> {
    loading ??= load().finally(() => (loading = undefined));
    return loading;
  }

  async function runReindex(options: ReindexRequest = {}): Promise<ReindexSummary> {
    const summary = await reindexFromConfig(config, indexer, store, { force: options.force, onProgress: options.onProgress ?? hooks.onProgress }, tagger);
    if (summary.updated || serving === undefined) await reload();
    return summary;
  }

  /** The generation to answer from: a newer one published by another process is picked up here. */
  async function current(): Promise<IndexReader> {
    if (serving === undefined || (await store.currentGeneration()) !== serving.generation) await reload().catch(() => undefined);
    if (serving === undefined) throw new Error('No index is loaded.');
    return serving;
  }

  const adminDeps = {
    config,
    network: options.network ?? systemNetwork,
    reindex: () => runReindex(),
    indexed: () => serving?.manifest.sources ?? [],
  };

  try {
    const state = await reload();
    if (state !== 'loaded') {
      const because = typeof state === 'string' ? state : 'unreadable';
      const reason = typeof state === 'string' ? {} : { reason: state.unreadable };
      hooks.onEvent?.({ kind: 'building-index', because, location: store.location, sourcesDir: config.SOURCES_DIR, ...reason });
      await runReindex();
    }
  } catch (error) {
    await store.close();
    throw error;
  }

  return {
    async ask(question, options = {}) {
      if (question.trim() === '') return { question, answered: false, quotes: [], reason: 'empty-question', hasMore: false };
      const index = await current();
      const [query] = await embedQuestions(model, [question]);
      const result = await search(index, question, query!, fitted, { isCommonWord: commonWordTest(model) });
      const answer = composeAnswer(question, result, index.sources, {
        maxQuotes: config.MAX_QUOTES,
        maxQuoteChars: config.MAX_QUOTE_CHARS,
        offset: options.offset,
        decision: fitted.decision,
      });
      const outcome = !answer.answered ? 'declined' : answer.confidence === 'low' ? 'low' : undefined;
      if (outcome !== undefined && (options.offset ?? 0) === 0) {
        const gap = { at: new Date().toISOString(), question, outcome, bestScore: Number((result.ranked[0]?.score ?? 0).toFixed(4)) } as const;
        await appendGap(config.GAPS_LOG, options.asker ? { ...gap, asker: options.asker } : gap);
      }
      return answer;
    },
    sources: () => ({ sources: serving?.manifest.sources ?? [], builtAt: serving?.manifest.builtAt }),
    reindex: runReindex,
    addSource: (input, who) => addSource(input, who, adminDeps),
    removeSource: (id, who) => removeSource(id, who, adminDeps),
    gaps: (since) => gapReport({ gapsLog: config.GAPS_LOG, feedbackLog: config.FEEDBACK_LOG, embed: (texts) => model.embed(texts) }, since),
    async close() {
      await serving?.close();
      await store.close();
      if (indexer !== model) await indexer.dispose();
      await tagger?.close();
      // A model handed in belongs to the caller, who may share it.
      if (embedder === undefined) await model.dispose();
    },
  };
}
