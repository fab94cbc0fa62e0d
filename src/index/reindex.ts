import { chunkSource, CHUNKER_VERSION } from '../chunks/chunkSource.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { loadSources } from '../sources/loadSources.ts';
import type { SourceDocument, SourceProblem } from '../sources/types.ts';
import { entityMentions } from '../retrieval/answerTypes.ts';
import { termCountsInTurns } from './keywords.ts';
import { diffSources, MANIFEST_VERSION, type IndexedSource, type IndexSettings, type Manifest } from './manifest.ts';
import type { EntityTagger } from './tagThread.ts';
import { turnsOf, yieldToEventLoop, type ChunkRecord, type IndexStore, type SentenceRecord, type SourceItems } from './store.ts';

export interface ReindexOptions {
  readonly sourcesDir: string;
  readonly store: IndexStore;
  readonly maxSourceBytes: number;
  readonly overlapSentences: number;
  readonly embedder: Embedder;
  /** Where entities are tagged; without it, on this thread, a turn at a time (`tagged`). */
  readonly tagger?: EntityTagger;
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

/** Where each line starts: after LF, CRLF, or a lone CR (old Mac line endings). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (const match of text.matchAll(/\r\n|\r|\n/g)) starts.push(match.index + match[0].length);
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

/** A sentence read in its article's context: what its second vector is made from. */
export function contextText(title: string, sentence: string): string {
  return `${title}. ${sentence.replace(/\s+/g, ' ')}`;
}

/** One document's records, each with the texts the model reads for it. */
export interface DocumentRecords {
  readonly document: SourceDocument;
  /** Chunks are embedded with their article's title. */
  readonly chunks: { readonly record: ChunkRecord; readonly input: string }[];
  /** Entities are tagged later, group by group (see `tagged`): tagging is the slow part of indexing after the model. */
  readonly sentences: { readonly record: Omit<SentenceRecord, 'entities'>; readonly input: string; readonly contextInput: string }[];
}

/**
 * How long tagging runs before giving the event loop a turn. Tagging takes about 1 ms a sentence
 * on average, but a long sentence takes tens, so a fixed count of sentences per turn (16) still
 * held the loop for up to 200 ms.
 */
const TAGGING_TURN_MS = 10;

/** The document's sentence records with their entities tagged. */
export async function tagged(entry: DocumentRecords): Promise<SentenceRecord[]> {
  const records: SentenceRecord[] = [];
  const turn = turnsOf(TAGGING_TURN_MS);
  for (const { record } of entry.sentences) {
    records.push({ ...record, entities: entityMentions(record.text) });
    await turn();
  }
  return records;
}

export function recordsOf(document: SourceDocument, settings: IndexSettings, overlapSentences: number, countTokens: (text: string) => number): DocumentRecords {
  const { text } = document;
  const { sentences, chunks } = chunkSource(document.id, text, document.bodyStart, {
    maxTokens: settings.chunkMaxTokens,
    overlapSentences,
    countTokens,
  });
  const starts = lineStarts(text);
  return {
    document,
    chunks: chunks.map((chunk) => {
      const chunkText = text.slice(chunk.start, chunk.end);
      const record: ChunkRecord = {
        sourceId: document.id,
        chunk: chunk.index,
        start: chunk.start,
        end: chunk.end,
        firstSentence: chunk.firstSentence,
        lastSentence: chunk.lastSentence,
        text: chunkText,
      };
      return { record, input: `${document.title}. ${chunkText}` };
    }),
    sentences: sentences.map((span, sentence) => {
      const sentenceText = text.slice(span.start, span.end);
      const record = {
        sourceId: document.id,
        sentence,
        start: span.start,
        end: span.end,
        line: lineOf(starts, span.start),
        text: sentenceText,
      };
      return { record, input: sentenceText, contextInput: contextText(document.title, sentenceText) };
    }),
  };
}

/** What the model reads for a document, in the order `embedGroup` takes the vectors back. */
export function embeddingInputs(entry: DocumentRecords): string[] {
  return [...entry.chunks.map((c) => c.input), ...entry.sentences.flatMap((s) => [s.input, s.contextInput])];
}

/** For each of `embeddingInputs`, whether its word pieces are kept: the sentences alone, which questions are matched against piece by piece. */
function keepsPieces(entry: DocumentRecords): boolean[] {
  return [...entry.chunks.map(() => false), ...entry.sentences.flatMap(() => [true, false])];
}

function describe({ document, chunks, sentences }: DocumentRecords, indexedAt: string): IndexedSource {
  return {
    id: document.id,
    path: document.path,
    title: document.title,
    ...(document.date ? { date: document.date } : {}),
    ...(document.outlet ? { outlet: document.outlet } : {}),
    ...(document.url ? { url: document.url } : {}),
    ...(document.original ? { original: document.original } : {}),
    ...(document.pageStarts ? { pageStarts: document.pageStarts } : {}),
    hash: document.hash,
    chunks: chunks.length,
    sentences: sentences.length,
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

/** Texts embedded per model call group: enough for full batches, few enough that memory stays flat on a large corpus. */
const EMBED_GROUP_TEXTS = 2048;

const textCount = (entry: DocumentRecords) => entry.chunks.length + 2 * entry.sentences.length;

/** Documents in groups of about `size` texts, so each group is embedded in one call and then stored. */
function groupsOf(documents: readonly DocumentRecords[], size: number): DocumentRecords[][] {
  const groups: DocumentRecords[][] = [];
  let current: DocumentRecords[] = [];
  let texts = 0;
  for (const entry of documents) {
    current.push(entry);
    texts += textCount(entry);
    if (texts >= size) {
      groups.push(current);
      current = [];
      texts = 0;
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Embeds a group of documents and hands each document's items to `put`, in order. */
async function embedGroup(
  group: readonly DocumentRecords[],
  embedder: Embedder,
  tagger: EntityTagger | undefined,
  onEmbedded: (done: number) => void,
  put: (items: SourceItems) => Promise<void>,
): Promise<void> {
  const inputs = group.flatMap(embeddingInputs);
  const { vectors, tokens } = await embedder.embedWithTokens(inputs, group.flatMap(keepsPieces), onEmbedded);
  let next = 0;
  const take = () => vectors[next++]!;
  for (const entry of group) {
    const chunks = entry.chunks.map(({ record }) => ({ record, vector: take() }));
    const records = tagger
      ? await tagger
          .tag(entry.sentences.map(({ record }) => record.text))
          .then((entities) => entry.sentences.map(({ record }, i) => ({ ...record, entities: entities[i]! })))
      : await tagged(entry);
    const sentences = records.map((record) => {
      const pieces = tokens[next];
      return { record, vector: take(), ...(pieces ? { tokens: pieces } : {}), context: take() };
    });
    await put({ sourceId: entry.document.id, chunks, sentences, termCounts: await termCountsInTurns(entry.sentences.map((s) => s.record)) });
  }
}

/**
 * Brings the index in line with the sources folder: embeds only what is new or changed, carries
 * the rest over from the serving generation, and publishes the result in one atomic step. Only
 * one re-index per index runs at a time.
 */
export async function reindex(options: ReindexOptions): Promise<ReindexSummary> {
  const { embedder, store, onProgress } = options;
  const now = options.now ?? (() => new Date());
  return store.exclusive(async () => {
    const began = performance.now();
    onProgress?.({ phase: 'reading' });
    // An unreadable serving index cannot donate vectors; it is rebuilt rather than trusted.
    const previous = await store.readManifest().catch(() => undefined);
    const { documents, problems } = await loadSources(options.sourcesDir, { maxBytes: options.maxSourceBytes });
    const settings = indexSettings(embedder, options.overlapSentences);
    const diff = diffSources(previous, settings, documents, problems, options.force);
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
      await store.tidy();
      return { ...summary, chunksEmbedded: 0, sentencesEmbedded: 0, seconds: (performance.now() - began) / 1000, updated: false };
    }

    const reused = [...diff.unchanged, ...diff.kept];
    const fresh: DocumentRecords[] = [];
    for (const document of toEmbed) {
      fresh.push(recordsOf(document, settings, options.overlapSentences, (t) => embedder.countTokens(t)));
      await yieldToEventLoop();
    }
    const total = fresh.reduce((sum, entry) => sum + textCount(entry), 0);
    const indexedAt = now().toISOString();
    const writer = await store.begin(settings);
    try {
      for (const source of reused) await writer.carryOver(source.id);
      let embedded = 0;
      onProgress?.({ phase: 'embedding', done: 0, total, sources: fresh.length });
      for (const group of groupsOf(fresh, EMBED_GROUP_TEXTS)) {
        await embedGroup(
          group,
          embedder,
          options.tagger,
          (done) => onProgress?.({ phase: 'embedding', done: embedded + done, total, sources: fresh.length }),
          (items) => writer.put(items),
        );
        embedded += group.reduce((sum, entry) => sum + textCount(entry), 0);
      }
      onProgress?.({ phase: 'writing' });
      const manifest: Manifest = {
        version: MANIFEST_VERSION,
        settings,
        builtAt: indexedAt,
        sources: [...reused, ...fresh.map((entry) => describe(entry, indexedAt))].sort((a, b) => a.id.localeCompare(b.id)),
      };
      await writer.commit(manifest);
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
    return {
      ...summary,
      chunksEmbedded: fresh.reduce((sum, entry) => sum + entry.chunks.length, 0),
      sentencesEmbedded: fresh.reduce((sum, entry) => sum + entry.sentences.length, 0),
      seconds: (performance.now() - began) / 1000,
      updated: true,
    };
  });
}
