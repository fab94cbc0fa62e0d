import path from 'node:path';
import { chunkSource, CHUNKER_VERSION } from '../chunks/chunkSource.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { loadSources } from '../sources/loadSources.ts';
import type { SourceDocument, SourceProblem } from '../sources/types.ts';
import { entityMentions } from '../retrieval/answerTypes.ts';
import { newGenerationName, publishGeneration, readCurrentGeneration, removeStaleGenerations } from './generations.ts';
import { withIndexLock } from './lock.ts';
import { diffSources, MANIFEST_VERSION, type IndexedSource, type IndexSettings, type Manifest } from './manifest.ts';
import { readGeneration, writeGeneration, type IndexRecord, type StoredItem } from './store.ts';

export interface ReindexOptions {
  readonly sourcesDir: string;
  readonly indexDir: string;
  readonly maxSourceBytes: number;
  readonly overlapSentences: number;
  readonly embedder: Embedder;
  /** Re-embed every source even if unchanged. */
  readonly force?: boolean;
  readonly onProgress?: (progress: ReindexProgress) => void;
  readonly now?: () => Date;
}

export type ReindexProgress =
  | { readonly phase: 'reading' }
  | { readonly phase: 'embedding'; readonly done: number; readonly total: number; readonly sources: number }
  | { readonly phase: 'writing' };

export interface ReindexSummary {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  readonly unchanged: string[];
  /** Unreadable now but indexed before: the earlier version is still served. */
  readonly kept: string[];
  readonly problems: SourceProblem[];
  readonly rebuildReason?: string;
  readonly chunksEmbedded: number;
  readonly sentencesEmbedded: number;
  readonly seconds: number;
  /** False when nothing changed, so the serving index was left as it was. */
  readonly updated: boolean;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/** What the model reads for a record: chunks, like context records, carry their article's title. */
export function embeddingInput(record: IndexRecord, title: string): string {
  return record.kind === 'chunk' ? `${title}. ${record.text}` : record.text;
}

/** Chunk, sentence and sentence-in-context records of one document, ready to embed. */
export function recordsOf(document: SourceDocument, settings: IndexSettings, overlapSentences: number, countTokens: (text: string) => number): IndexRecord[] {
  const { text } = document;
  const { sentences, chunks } = chunkSource(document.id, text, document.bodyStart, {
    maxTokens: settings.chunkMaxTokens,
    overlapSentences,
    countTokens,
  });
  const starts = lineStarts(text);
  return [
    ...chunks.map((chunk): IndexRecord => ({
      kind: 'chunk',
      sourceId: document.id,
      chunk: chunk.index,
      start: chunk.start,
      end: chunk.end,
      firstSentence: chunk.firstSentence,
      lastSentence: chunk.lastSentence,
      text: text.slice(chunk.start, chunk.end),
    })),
    ...sentences.map((span, sentence): IndexRecord => ({
      kind: 'sentence',
      sourceId: document.id,
      sentence,
      start: span.start,
      end: span.end,
      line: lineOf(starts, span.start),
      text: text.slice(span.start, span.end),
      entities: entityMentions(text.slice(span.start, span.end)),
    })),
    ...sentences.map((span, sentence): IndexRecord => ({
      kind: 'context',
      sourceId: document.id,
      sentence,
      text: `${document.title}. ${text.slice(span.start, span.end).replace(/\s+/g, ' ')}`,
    })),
  ];
}

function describe(document: SourceDocument, records: readonly IndexRecord[], indexedAt: string): IndexedSource {
  return {
    id: document.id,
    path: document.path,
    title: document.title,
    ...(document.date ? { date: document.date } : {}),
    ...(document.outlet ? { outlet: document.outlet } : {}),
    ...(document.url ? { url: document.url } : {}),
    hash: document.hash,
    chunks: records.filter((record) => record.kind === 'chunk').length,
    sentences: records.filter((record) => record.kind === 'sentence').length,
    indexedAt,
  };
}

export function indexSettings(embedder: Embedder, overlapSentences: number): IndexSettings {
  return {
    modelId: embedder.modelId,
    dimensions: embedder.dimensions,
    chunkerVersion: CHUNKER_VERSION,
    chunkMaxTokens: embedder.maxTokens,
    overlapSentences,
  };
}

/**
 * Brings the index in line with the sources folder: embeds only what is new or changed, copies
 * the rest from the serving index, and publishes the result as a new generation in one atomic
 * step. Only one re-index per index folder runs at a time.
 */
export async function reindex(options: ReindexOptions): Promise<ReindexSummary> {
  const { embedder, indexDir, onProgress } = options;
  const now = options.now ?? (() => new Date());
  return withIndexLock(indexDir, async () => {
    const began = performance.now();
    onProgress?.({ phase: 'reading' });
    const current = await readCurrentGeneration(indexDir);
    // An unreadable serving index cannot donate vectors; it is rebuilt rather than trusted.
    const previous = current ? await readGeneration(path.join(indexDir, current)).catch(() => undefined) : undefined;
    const { documents, problems } = await loadSources(options.sourcesDir, { maxBytes: options.maxSourceBytes });
    const settings = indexSettings(embedder, options.overlapSentences);
    const diff = diffSources(previous?.manifest, settings, documents, problems, options.force);
    const toEmbed = [...diff.added, ...diff.changed];
    const summary = {
      added: diff.added.map((d) => d.id),
      changed: diff.changed.map((d) => d.id),
      removed: diff.removed.map((s) => s.id),
      unchanged: diff.unchanged.map((s) => s.id),
      kept: diff.kept.map((s) => s.id),
      problems,
      ...(diff.rebuildReason ? { rebuildReason: diff.rebuildReason } : {}),
    };
    if (previous && toEmbed.length === 0 && diff.removed.length === 0 && !diff.rebuildReason) {
      await removeStaleGenerations(indexDir, current ? [current] : []);
      return { ...summary, chunksEmbedded: 0, sentencesEmbedded: 0, seconds: (performance.now() - began) / 1000, updated: false };
    }

    const reusedIds = new Set([...diff.unchanged, ...diff.kept].map((source) => source.id));
    const reused = (previous?.items ?? []).filter((item) => reusedIds.has(item.record.sourceId));
    const fresh = toEmbed.map((document) => ({ document, records: recordsOf(document, settings, options.overlapSentences, (t) => embedder.countTokens(t)) }));
    const records = fresh.flatMap((entry) => entry.records);
    const inputs = fresh.flatMap(({ document, records: own }) => own.map((record) => embeddingInput(record, document.title)));
    onProgress?.({ phase: 'embedding', done: 0, total: records.length, sources: fresh.length });
    const vectors = await embedder.embed(
      inputs,
      (done, total) => onProgress?.({ phase: 'embedding', done, total, sources: fresh.length }),
    );

    onProgress?.({ phase: 'writing' });
    const indexedAt = now().toISOString();
    const items: StoredItem[] = [...reused, ...records.map((record, i) => ({ record, vector: vectors[i]! }))];
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      settings,
      builtAt: indexedAt,
      sources: [
        ...(previous?.manifest.sources ?? []).filter((source) => reusedIds.has(source.id)),
        ...fresh.map(({ document, records: own }) => describe(document, own, indexedAt)),
      ].sort((a, b) => a.id.localeCompare(b.id)),
    };
    const generation = newGenerationName(now());
    await writeGeneration(path.join(indexDir, generation), items, manifest);
    await publishGeneration(indexDir, generation);
    await removeStaleGenerations(indexDir, current ? [generation, current] : [generation]);
    return {
      ...summary,
      chunksEmbedded: records.filter((record) => record.kind === 'chunk').length,
      sentencesEmbedded: records.filter((record) => record.kind === 'sentence').length,
      seconds: (performance.now() - began) / 1000,
      updated: true,
    };
  });
}
