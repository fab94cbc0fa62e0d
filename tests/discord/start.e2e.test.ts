/**
 * `npm start` as a process manager runs it: the bot comes online against the local Discord
 * stand-in, and SIGTERM sent to the process that was started (npm) stops the bot itself, cleanly
 * and promptly, leaving no orphan behind.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultModelCacheDir } from '../../src/embeddings/minilm/modelFolder.ts';
import { cliEnv, REPO_ROOT, SEED_FILES, SEED_SOURCES } from '../integration/helpers.ts';
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

it('stops the bot within 10 s of SIGTERM to npm start, with nothing left running', async () => {
  const child = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env: cliEnv({
      DISCORD_TOKEN: TOKEN,
      DISCORD_CLIENT_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
      SOURCES_DIR: path.join(work, 'sources'),
      INDEX_DIR: path.join(work, 'index'),
      MODEL_CACHE_DIR: defaultModelCacheDir(),
      FEEDBACK_LOG: path.join(work, 'feedback.jsonl'),
      GAPS_LOG: path.join(work, 'gaps.jsonl'),
      HEALTH_FILE: path.join(work, 'health.json'),
      LOG_LEVEL: 'info',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const online = Date.now();
  while (!output.includes('Docent is online')) {
    if (Date.now() - online > 60_000) throw new Error(`the bot did not come online:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const botPid = (JSON.parse(output.split('\n').find((line) => line.includes('Docent is online'))!) as { pid: number }).pid;
  expect(botPid).not.toBe(child.pid);
  // Connected, it keeps a health file fresh for a process manager's health check.
  const health = await waitFor(() => readFile(path.join(work, 'health.json'), 'utf8').catch(() => undefined));
  expect(JSON.parse(health)).toMatchObject({ pid: botPid });
  expect(Date.now() - Date.parse(JSON.parse(health).time)).toBeLessThan(30_000);

  const signalled = Date.now();
  child.kill('SIGTERM');
  const code = await exited;
  while (alive(botPid) && Date.now() - signalled < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(alive(botPid), 'the bot process is gone').toBe(false);
  expect(Date.now() - signalled).toBeLessThan(10_000);
  expect(output).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
  expect(code).not.toBeNull();
}, 90_000);
