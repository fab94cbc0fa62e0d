/**
 * Shared helpers for the integration suites. They run against the real all-MiniLM-L6-v2
 * conversion in `.cache/models` and real Vectra indexes in temporary folders; nothing is mocked.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { engineConfigSchema, type EngineConfig } from '../../src/config/schema.ts';
import { DEFAULT_MODEL_ID, loadEmbedder, type Embedder } from '../../src/embeddings/embedder.ts';
import { defaultModelCacheDir } from '../../src/embeddings/minilm/modelFolder.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SEED_SOURCES = path.join(REPO_ROOT, 'sources');
export const SEED_FILES = ['reviving-diplomatic-ties-istanbul-talks.md', 'us-russia-istanbul-talks-april-2025.md'] as const;
/** The shared conversion, so every suite (and every child process) reuses it. */
export const MODEL_CACHE_DIR = defaultModelCacheDir();
export const WIKI_ARTICLES = path.resolve(REPO_ROOT, '..', 'shared', 'eval', 'squadshifts-new-wiki', 'articles');

const temporary: string[] = [];

/** A fresh folder under os.tmpdir(), removed by `removeTempDirs()`. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `docent-it-${label}-`));
  temporary.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function loadTestEmbedder(): Promise<Embedder> {
  return loadEmbedder({ modelId: DEFAULT_MODEL_ID, cacheDir: MODEL_CACHE_DIR, batchSize: 32 });
}

/** Logs the engine appends to (unanswered questions, source changes), kept out of the working copy. */
const logs = () => {
  const dir = tempDir('logs');
  return { GAPS_LOG: path.join(dir, 'gaps.jsonl'), AUDIT_LOG: path.join(dir, 'audit.jsonl'), FEEDBACK_LOG: path.join(dir, 'feedback.jsonl') };
};

export function testConfig(sourcesDir: string, indexDir: string, extra: Record<string, string> = {}): EngineConfig {
  return engineConfigSchema.parse({ SOURCES_DIR: sourcesDir, INDEX_DIR: indexDir, MODEL_CACHE_DIR, ...logs(), ...extra });
}

/** A temp sources folder holding copies of the two seed articles. */
export async function seededSourcesDir(label: string): Promise<string> {
  const dir = tempDir(`${label}-sources`);
  await mkdir(dir, { recursive: true });
  for (const file of SEED_FILES) await cp(path.join(SEED_SOURCES, file), path.join(dir, file));
  return dir;
}

/** What every quote-bearing shape (Answer, CLI --json output) has in common. */
export interface QuotedAnswer {
  readonly quotes: readonly {
    readonly text: string;
    readonly start: number;
    readonly end: number;
    readonly line: number;
    readonly source: { readonly title: string; readonly path: string };
  }[];
}

/** A source file's text exactly as Docent offsets point into it: UTF-8 as read (a BOM included), NFC. */
export function sourceText(file: string): string {
  const bytes = readFileSync(path.resolve(process.cwd(), file));
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes).normalize('NFC');
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

export const MAX_QUOTE_CHARS = 400;

/**
 * Every quote is verbatim: less its ellipses it is exactly `file.slice(start, end)`, it starts
 * on `line`, and its source has a title. `texts` overrides what a path holds (for a source whose
 * file is now unreadable but whose previous version is still served).
 */
export function expectExactQuotes(answer: QuotedAnswer, texts: ReadonlyMap<string, string> = new Map()): void {
  for (const quote of answer.quotes) {
    const file = texts.get(quote.source.path) ?? sourceText(quote.source.path);
    const bare = quote.text.replace(/^…/, '').replace(/…$/, '');
    expect(bare, `quote from ${quote.source.path}@${quote.start}`).toBe(file.slice(quote.start, quote.end));
    expect(bare.length).toBeGreaterThan(0);
    expect(quote.text.length).toBeLessThanOrEqual(MAX_QUOTE_CHARS + 2);
    expect(quote.line, `line of ${quote.source.path}@${quote.start}`).toBe(lineAt(file, quote.start));
    expect(quote.source.title.trim()).not.toBe('');
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Engine settings for a child CLI, all explicit so a stray `.env` or shell variable cannot leak in. */
export function cliEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(engineConfigSchema.shape)) delete env[key];
  return {
    ...env,
    MODEL_CACHE_DIR,
    EMBED_BATCH_SIZE: '32',
    MAX_QUOTES: '3',
    MAX_QUOTE_CHARS: String(MAX_QUOTE_CHARS),
    CHUNK_OVERLAP_SENTENCES: '1',
    NO_COLOR: '1',
    ...logs(),
    ...overrides,
  };
}

/** Runs `npx tsx src/cli/main.ts ...args` from the repository root. */
export function runCli(args: readonly string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: REPO_ROOT, env: cliEnv(options.env), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
