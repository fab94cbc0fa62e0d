/**
 * `npm start` as a process manager runs it: the bot comes online against the local Discord
 * stand-in, and SIGTERM sent to the process that was started (npm) stops the bot itself, cleanly
 * and promptly, leaving no orphan behind.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultModelCacheDir } from '../../src/embeddings/minilm/modelFolder.ts';
import { cliEnv, REPO_ROOT, removeTempDirs, SEED_FILES, SEED_SOURCES } from '../integration/helpers.ts';
import { startFakeDiscord, type FakeDiscord } from './fake/fakeDiscord.ts';

const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789';

let work: string;
let fake: FakeDiscord;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'docent-start-'));
  await mkdir(path.join(work, 'sources'));
  for (const file of SEED_FILES) await cp(path.join(SEED_SOURCES, file), path.join(work, 'sources', file));
  fake = await startFakeDiscord({ token: TOKEN });
});

afterAll(async () => {
  // cliEnv makes a folder for the engine's logs.
  removeTempDirs();
  await fake?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const began = Date.now();
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() - began > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `npm start` over `dir`'s sources and index, its output gathered, resolved once the bot says it is online. */
async function startBot(dir: string) {
  const child = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env: cliEnv({
      DISCORD_TOKEN: TOKEN,
      DISCORD_CLIENT_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
      SOURCES_DIR: path.join(dir, 'sources'),
      INDEX_DIR: path.join(dir, 'index'),
      MODEL_CACHE_DIR: defaultModelCacheDir(),
      FEEDBACK_LOG: path.join(dir, 'feedback.jsonl'),
      GAPS_LOG: path.join(dir, 'gaps.jsonl'),
      HEALTH_FILE: path.join(dir, 'health.json'),
      LOG_LEVEL: 'info',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const bot = { child, output: '', exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))), pid: 0 };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (bot.output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (bot.output += chunk));
  const began = Date.now();
  while (!bot.output.includes('Docent is online')) {
    if (Date.now() - began > 60_000) throw new Error(`the bot did not come online:\n${bot.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  bot.pid = (JSON.parse(bot.output.split('\n').find((line) => line.includes('Docent is online'))!) as { pid: number }).pid;
  return bot;
}

/** Sends SIGTERM to npm and waits (up to 10 s) for the bot's own process to be gone. */
async function stopBot(bot: Awaited<ReturnType<typeof startBot>>): Promise<{ code: number | null; tookMs: number }> {
  const signalled = Date.now();
  bot.child.kill('SIGTERM');
  const code = await bot.exited;
  while (alive(bot.pid) && Date.now() - signalled < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
  return { code, tookMs: Date.now() - signalled };
}

it('stops the bot within 10 s of SIGTERM to npm start, with nothing left running', async () => {
  const bot = await startBot(work);
  expect(bot.pid).not.toBe(bot.child.pid);
  // Connected, it keeps a health file fresh for a process manager's health check.
  const health = await waitFor(() => readFile(path.join(work, 'health.json'), 'utf8').catch(() => undefined));
  expect(JSON.parse(health)).toMatchObject({ pid: bot.pid });
  expect(Date.now() - Date.parse(JSON.parse(health).time)).toBeLessThan(30_000);

  const { code, tookMs } = await stopBot(bot);
  expect(alive(bot.pid), 'the bot process is gone').toBe(false);
  expect(tookMs).toBeLessThan(10_000);
  expect(bot.output).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
  expect(code).not.toBeNull();
}, 90_000);

it('stops cleanly within 10 s of SIGTERM in the middle of a re-index, the index it served left in place', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'docent-start-'));
  try {
    await mkdir(path.join(dir, 'sources'));
    for (const file of SEED_FILES) await cp(path.join(SEED_SOURCES, file), path.join(dir, 'sources', file));
    const bot = await startBot(dir);
    const serving = await readFile(path.join(dir, 'index', 'CURRENT'), 'utf8');
    // Long enough that the re-index is still embedding when the signal comes.
    const sentences = Array.from({ length: 1500 }, (_, i) => `Finding ${i} of the survey concerns the harbour at station ${i}.`);
    await writeFile(path.join(dir, 'sources', 'survey.md'), `---\ntitle: Harbour survey\n---\n\n${sentences.join(' ')}\n`);
    const reindex = fake.slashCommand({ name: 'reindex', permissions: String(32n) });
    fake.dispatchInteraction(reindex);
    await fake.waitForRequest(
      (r) => r.method === 'PATCH' && r.path.includes(reindex.token) && /^Re-indexing: embedding/.test((r.body as { content?: string }).content ?? ''),
      60_000,
    );

    const { tookMs } = await stopBot(bot);
    expect(alive(bot.pid), 'the bot process is gone').toBe(false);
    expect(tookMs).toBeLessThan(10_000);
    // The indexing thread is asked to stop between batches, not ended inside onnxruntime, which could abort the process.
    expect(bot.output).not.toMatch(/terminate called|Napi::Error|Aborted/);
    expect(bot.output).toMatch(/"msg":"shutting down"/);
    expect(await readFile(path.join(dir, 'index', 'CURRENT'), 'utf8')).toBe(serving);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);
