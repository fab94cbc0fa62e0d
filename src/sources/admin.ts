import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { paragraphSpans, sentenceSpans } from '../chunks/sentences.ts';
import type { EngineConfig } from '../config/schema.ts';
import type { IndexedSource } from '../index/manifest.ts';
import type { ReindexSummary } from '../index/reindex.ts';
import { type AuditLog, auditLog } from './audit.ts';
import { extensionFor, FetchError, type FetchNetwork, fetchDocument } from './fetch/fetchDocument.ts';
import { addDocument, removeDocument, type NewDocument, UnknownSourceError } from './library.ts';
import { parseSource, SourceError } from './parseSource.ts';

/** What an admin hands in: a file (an attachment, or one on disk) or a web address. */
export type SourceInput = { readonly file: NewDocument } | { readonly url: string };

export interface AddedSource {
  readonly source: IndexedSource;
  /** A sentence of the article as Docent reads it, to show that it was read right. */
  readonly sample?: string;
  readonly summary: ReindexSummary;
}

export interface RemovedSource {
  /** What was indexed of it; undefined when the file was in the folder but not (yet) indexed. */
  readonly source?: IndexedSource;
  /** Where the file now is (under `.removed/` in the sources folder). */
  readonly movedTo: string;
  readonly summary: ReindexSummary;
}

export interface SourceAdminDeps {
  readonly config: EngineConfig;
  readonly network: FetchNetwork;
  readonly reindex: () => Promise<ReindexSummary>;
  readonly indexed: () => readonly IndexedSource[];
  readonly audit?: AuditLog;
}

/** An article that cannot be added, and why; the message names it. */
export class AddSourceError extends Error {
  override name = 'AddSourceError';
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`${what} ${reason}`);
  }
}

/** The terminal user, for the audit log. */
export const terminalUser = (): string => `cli:${os.userInfo().username}`;

/** The first sentence of five words or more (a byline or a caption says little about how the article was read). */
function sampleSentence(markdown: string): string | undefined {
  const document = parseSource({ id: 'sample', path: 'sample', bytes: Buffer.from(markdown) });
  for (const paragraph of paragraphSpans(document.text, document.bodyStart)) {
    for (const sentence of sentenceSpans(document.text, paragraph)) {
      const text = document.text.slice(sentence.start, sentence.end);
      if (text.split(/\s+/).length >= 5) return text;
    }
  }
  return undefined;
}

async function documentFrom(input: SourceInput, deps: SourceAdminDeps): Promise<NewDocument> {
  if ('file' in input) return input.file;
  const { config } = deps;
  const fetched = await fetchDocument(input.url, deps.network, {
    timeoutMs: config.FETCH_TIMEOUT_MS,
    maxBytes: config.MAX_SOURCE_BYTES,
    maxRedirects: config.FETCH_MAX_REDIRECTS,
    allowLoopback: config.ALLOW_LOOPBACK_URLS,
  });
  return { name: `page${extensionFor(fetched.contentType)}`, bytes: fetched.bytes, url: fetched.url };
}

/**
 * Adds an article: fetched or taken as given, converted to Markdown, written into the sources
 * folder under a name from its title, and indexed (only it is embedded). Every attempt, refused
 * or not, is written to the audit log.
 */
export async function addSource(input: SourceInput, who: string, deps: SourceAdminDeps): Promise<AddedSource> {
  const what = 'url' in input ? input.url : input.file.name;
  const audit = deps.audit ?? auditLog(deps.config.AUDIT_LOG);
  let written: { id: string; file: string } | undefined;
  try {
    const document = await documentFrom(input, deps);
    written = await addDocument(deps.config.SOURCES_DIR, document, deps.config.MAX_SOURCE_BYTES);
    const summary = await deps.reindex();
    const source = deps.indexed().find((entry) => entry.id === written!.id);
    const problem = summary.problems.find((entry) => entry.id === written!.id);
    if (source === undefined) throw new AddSourceError(written.id, `was saved in the sources folder but not indexed${problem ? `: it ${problem.reason}` : ''}`);
    await audit({ who, action: 'add', what, result: 'ok', detail: written.id });
    return { source, sample: sampleSentence(await readFile(written.file, 'utf8')), summary };
  } catch (error) {
    const refused = error instanceof FetchError || error instanceof SourceError;
    await audit({ who, action: 'add', what, result: refused ? 'refused' : 'failed', detail: error instanceof Error ? error.message : String(error) });
    // A file's problem reads "is not a readable PDF (…)": it is told with the file's name in front.
    throw error instanceof SourceError ? new AddSourceError(written?.id ?? what, error.message) : error;
  }
}

/** Moves an article out of the sources folder into `.removed/` (nothing is deleted) and re-indexes without it. */
export async function removeSource(id: string, who: string, deps: SourceAdminDeps): Promise<RemovedSource> {
  const audit = deps.audit ?? auditLog(deps.config.AUDIT_LOG);
  try {
    const source = deps.indexed().find((entry) => entry.id === id);
    const movedTo = await removeDocument(deps.config.SOURCES_DIR, id);
    const summary = await deps.reindex();
    await audit({ who, action: 'remove', what: id, result: 'ok', detail: path.relative(deps.config.SOURCES_DIR, movedTo) });
    return { source, movedTo, summary };
  } catch (error) {
    const refused = error instanceof UnknownSourceError;
    await audit({ who, action: 'remove', what: id, result: refused ? 'refused' : 'failed', detail: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}
