import type { SourceDocument, SourceMetadata, SourceProblem } from '../sources/types.ts';

/** 3: one shard per source, sentences carrying their context vector; 4: and their word-piece vectors. */
export const MANIFEST_VERSION = 4;

/** What an index was built with; any difference makes its vectors or chunks incomparable. */
export interface IndexSettings {
  readonly modelId: string;
  readonly dimensions: number;
  readonly chunkerVersion: number;
  readonly chunkMaxTokens: number;
  readonly overlapSentences: number;
}

export interface IndexedSource extends SourceMetadata {
  readonly chunks: number;
  readonly sentences: number;
  /** When this version of the source was embedded (kept across re-indexes that leave it unchanged). */
  readonly indexedAt: string;
}

export interface Manifest {
  readonly version: number;
  readonly settings: IndexSettings;
  readonly builtAt: string;
  readonly sources: IndexedSource[];
}

export interface SourceDiff {
  /** Set when nothing of the previous index can be reused, saying why. */
  readonly rebuildReason?: string;
  readonly added: SourceDocument[];
  readonly changed: SourceDocument[];
  readonly unchanged: IndexedSource[];
  /** Sources whose file is now unreadable: their previous version stays indexed rather than vanish. */
  readonly kept: IndexedSource[];
  readonly removed: IndexedSource[];
}

function settingsChange(previous: IndexSettings, next: IndexSettings): string | undefined {
  if (previous.modelId !== next.modelId) return `the embedding model changed (${previous.modelId} → ${next.modelId})`;
  if (previous.dimensions !== next.dimensions) return `the embedding size changed (${previous.dimensions} → ${next.dimensions})`;
  if (previous.chunkerVersion !== next.chunkerVersion) return `the chunker changed (version ${previous.chunkerVersion} → ${next.chunkerVersion})`;
  if (previous.chunkMaxTokens !== next.chunkMaxTokens) return `the chunk size changed (${previous.chunkMaxTokens} → ${next.chunkMaxTokens} tokens)`;
  if (previous.overlapSentences !== next.overlapSentences)
    return `the chunk overlap changed (${previous.overlapSentences} → ${next.overlapSentences} sentences)`;
  return undefined;
}

/** Decides, per source, what a re-index must embed, copy over, or drop. */
export function diffSources(
  previous: Manifest | undefined,
  settings: IndexSettings,
  documents: readonly SourceDocument[],
  problems: readonly SourceProblem[],
  force = false,
): SourceDiff {
  const incompatibility =
    previous === undefined ? undefined : previous.version !== MANIFEST_VERSION ? 'the index format changed' : settingsChange(previous.settings, settings);
  const rebuildReason = previous === undefined ? undefined : (incompatibility ?? (force ? 'a full rebuild was requested (--force)' : undefined));
  const reusable = previous !== undefined && rebuildReason === undefined ? previous.sources : [];
  const before = new Map(reusable.map((source) => [source.id, source]));
  // Vectors of a still-compatible index stay valid under --force: a source whose file is
  // unreadable just now keeps its previous version rather than vanish.
  const keepable = new Map((previous !== undefined && incompatibility === undefined ? previous.sources : []).map((source) => [source.id, source]));
  const added: SourceDocument[] = [];
  const changed: SourceDocument[] = [];
  const unchanged: IndexedSource[] = [];
  for (const document of documents) {
    const old = before.get(document.id);
    if (old === undefined) added.push(document);
    else if (old.hash !== document.hash) changed.push(document);
    else unchanged.push(old);
  }
  const unreadableFolders = problems.filter((problem) => problem.folder).map((problem) => problem.id);
  const kept = [
    ...problems.flatMap((problem) => keepable.get(problem.id) ?? []),
    ...[...keepable.values()].filter((source) => unreadableFolders.some((folder) => source.id.startsWith(folder))),
  ];
  const survivors = new Set([...documents.map((document) => document.id), ...kept.map((source) => source.id)]);
  const removed = (previous?.sources ?? []).filter((source) => !survivors.has(source.id));
  return { rebuildReason, added, changed, unchanged, kept, removed };
}
