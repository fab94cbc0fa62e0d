/**
 * A re-index killed with SIGKILL in the middle of embedding must leave the previous generation
 * serving, and must not block the next re-index: its lock is taken over as soon as its process
 * is provably gone, and what it had written is cleaned up.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/types.ts';
import { openDocent } from '../../src/docent.ts';
import type { Embedder } from '../../src/embeddings/embedder.ts';
import { IndexBusyError } from '../../src/index/lock.ts';
import { VectraStore } from '../../src/index/vectra/vectraStore.ts';
import { reindex, type ReindexSummary } from '../../src/index/reindex.ts';
import {
  cliEnv,
  expectExactQuotes,
  loadTestEmbedder,
  removeTempDirs,
  REPO_ROOT,
  SEED_FILES,
  seededSourcesDir,
  tempDir,
  testConfig,
  WIKI_ARTICLES,
} from './helpers.ts';

const QUESTION = 'Which properties does Russia want returned?';
/** Enough text (~140 KB, ~1,300 chunks and sentences) that embedding takes many seconds. */
const WIKI_FILES = [
  '011_Insurance_in_the_United_States.md',
  '019_Function__mathematics_.md',
  '020_Cartesian_coordinate_system.md',
  '028_Sierra_Nevada__U.S._.md',
  '033_Relief.md',
  '035_Political_divisions_of_the_United_States.md',
  '037_Rotterdam.md',
  '038_Lens.md',
  '041_Oxford.md',
  '043_Subroutine.md',
];

let embedder: Embedder;
let sourcesDir: string;
let indexDir: string;
let before: Answer;
let oldGeneration: string;
let child: ReturnType<typeof spawn> | undefined;

const readCurrent = async () => (await readFile(path.join(indexDir, 'CURRENT'), 'utf8')).trim();
const generations = async () => (await readdir(indexDir)).filter((name) => name.startsWith('gen-')).sort();
const comparable = (answer: Answer) => ({
  answered: answer.answered,
  quotes: answer.quotes.map(({ text, source, start, end, line, score }) => ({ text, id: source.id, start, end, line, score })),
});

beforeAll(async () => {
  embedder = await loadTestEmbedder();
  sourcesDir = await seededSourcesDir('killed');
  indexDir = tempDir('killed-index');
  const docent = await openDocent(testConfig(sourcesDir, indexDir), {}, embedder);
  before = await docent.ask(QUESTION);
  expectExactQuotes(before);
  expect(before.answered).toBe(true);
  oldGeneration = await readCurrent();
});

afterAll(async () => {
  // Never leave a child behind, even when an assertion failed half-way.
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await embedder?.dispose();
  removeTempDirs();
});

/** Resolves once `stderr` of the child has matched `pattern`; rejects if it exits first or the deadline passes. */
function waitForStderr(proc: ReturnType<typeof spawn>, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} on stderr after ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the re-index exited (code ${code}, signal ${signal}) before ${pattern}:\n${seen}`));
    });
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a re-index killed mid-embedding', () => {
  it("leaves the old generation serving, then a new re-index takes the dead holder's lock over at once and recovers", async () => {
    for (const file of WIKI_FILES) await cp(path.join(WIKI_ARTICLES, file), path.join(sourcesDir, file));

    // `npx tsx` runs the CLI in a grandchild process; a process group lets kill -9 reach all of it.
    child = spawn('npx', ['tsx', 'src/cli/main.ts', 'index', '--force', '--sources', sourcesDir, '--index', indexDir], {
      cwd: REPO_ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid!;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));
    const stderr = await waitForStderr(child, /Embedding (\d+) chunks and sentences from (\d+) source\(s\)/, 60_000);
    const [, texts, sources] = /Embedding (\d+) chunks and sentences from (\d+) source\(s\)/.exec(stderr)!;
    expect(Number(sources)).toBe(SEED_FILES.length + WIKI_FILES.length);
    expect(Number(texts)).toBeGreaterThan(1000);
    // Let it embed for a moment, so the kill lands mid-embedding rather than at its very start.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(child.exitCode).toBeNull();
    process.kill(-pid, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAt = Date.now();
    await until('the killed process group to disappear', 5_000, async () => (groupAlive(pid) ? undefined : true));

    // The crash left its lock behind and nothing was published.
    expect(existsSync(path.join(indexDir, '.reindex.lock'))).toBe(true);
    expect(await readCurrent()).toBe(oldGeneration);
    expect(await generations()).toEqual([oldGeneration]);
    const generation = await new VectraStore(indexDir).open();
    expect(generation).toBeDefined();
    expect(generation!.manifest.sources.map((source) => source.id).sort()).toEqual([...SEED_FILES]);
    expect(generation!.sentences.length).toBeGreaterThan(0);

    // A fresh engine on that index answers exactly as before.
    const config = testConfig(sourcesDir, indexDir);
    const fresh = await openDocent(config, {}, embedder);
    const after = await fresh.ask(QUESTION);
    expectExactQuotes(after);
    expect(comparable(after)).toEqual(comparable(before));

    // Keep the recovery run short: back to the two seeds. Also leave a half-written generation,
    // as a build killed while writing would, for the recovery to clean up.
    for (const file of WIKI_FILES) await rm(path.join(sourcesDir, file));
    const leftover = path.join(indexDir, 'gen-20000101T000000-dead00');
    await mkdir(leftover);
    await writeFile(path.join(leftover, 'index.json'), '{"version":1,"items":[');

    const run = () =>
      reindex({
        sourcesDir,
        store: new VectraStore(indexDir),
        maxSourceBytes: config.MAX_SOURCE_BYTES,
        overlapSentences: config.CHUNK_OVERLAP_SENTENCES,
        embedder,
        force: true,
      });
    let busy = 0;
    const firstTryAfterKill = Date.now() - killedAt;
    const summary = await until<ReindexSummary>('the stale lock to be taken over', 30_000, async () => {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof IndexBusyError)) throw error;
        busy++;
        return undefined;
      }
    });
    // The holder ran on this machine and its process is gone: its lock is taken over at once,
    // not after the 10 s a stalled holder gets.
    expect(busy).toBe(0);
    expect(firstTryAfterKill).toBeLessThan(10_000);
    expect(summary.updated).toBe(true);
    expect(summary.rebuildReason).toMatch(/force/);
    expect(summary.added.sort()).toEqual([...SEED_FILES]);

    const current = await readCurrent();
    expect(current).not.toBe(oldGeneration);
    // The leftover is gone; only the new generation and the one before it (for readers that
    // read CURRENT just before the swap) remain, and the lock was released.
    expect(await generations()).toEqual([oldGeneration, current].sort());
    expect(existsSync(leftover)).toBe(false);
    // Shards the killed run had written are gone too: every shard left is listed by a kept generation.
    const listed = new Set<string>();
    for (const generation of [oldGeneration, current]) {
      for (const shard of Object.values(JSON.parse(await readFile(path.join(indexDir, generation, 'shards.json'), 'utf8')) as Record<string, string>))
        listed.add(shard);
    }
    expect((await readdir(path.join(indexDir, 'shards'))).sort()).toEqual([...listed].sort());
    expect(existsSync(path.join(indexDir, '.reindex.lock'))).toBe(false);
    expect((await readdir(indexDir)).filter((name) => name.startsWith('CURRENT.'))).toEqual([]);

    const rebuilt = await openDocent(config, {}, embedder);
    const again = await rebuilt.ask(QUESTION);
    expectExactQuotes(again);
    expect(again.quotes.map((quote) => quote.text)).toEqual(before.quotes.map((quote) => quote.text));
  });
});
