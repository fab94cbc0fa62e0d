/** The CLI end to end: `npx tsx src/cli/main.ts ...` as child processes over temp folders. */
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExactQuotes, removeTempDirs, runCli, type CliResult, type QuotedAnswer, seededSourcesDir, tempDir, REPO_ROOT, cliEnv } from './helpers.ts';

const TITLES = [
  'Reviving Diplomatic Ties: U.S. and Russia Explore Embassy Staffing and Flight Restoration in Istanbul Talks',
  'U.S. and Russia Hold Talks in Istanbul on Restoring Diplomatic Missions',
];

let sourcesDir: string;
let indexDir: string;
let indexRun: CliResult;

beforeAll(async () => {
  sourcesDir = await seededSourcesDir('cli');
  indexDir = tempDir('cli-index');
  indexRun = await runCli(['index', '--sources', sourcesDir, '--index', indexDir]);
});

afterAll(() => removeTempDirs());

interface JsonAnswer extends QuotedAnswer {
  readonly question: string;
  readonly answered: boolean;
  readonly reason?: string;
  readonly confidence?: 'high' | 'low';
}

/** Checks the exact --json shape, and that every quote is verbatim. */
function expectJsonAnswer(value: unknown): JsonAnswer {
  const answer = value as JsonAnswer & Record<string, unknown>;
  expect(Object.keys(answer).sort()).toEqual(answer.answered ? ['answered', 'confidence', 'question', 'quotes'] : ['answered', 'question', 'quotes', 'reason']);
  if (answer.answered) expect(['high', 'low']).toContain(answer.confidence);
  expect(typeof answer.question).toBe('string');
  expect(typeof answer.answered).toBe('boolean');
  for (const quote of answer.quotes) {
    expect(Object.keys(quote).sort()).toEqual(['end', 'line', 'score', 'source', 'start', 'text']);
    expect(Object.keys(quote.source).sort()).toEqual(['id', 'path', 'title']);
    expect(typeof (quote as unknown as { score: unknown }).score).toBe('number');
  }
  expect(answer.quotes.length).toBeLessThanOrEqual(3);
  expectExactQuotes(answer);
  return answer;
}

describe('docent CLI', () => {
  it('index prints the summary: added/changed/removed/unchanged, chunks embedded, seconds', async () => {
    expect(indexRun.code, indexRun.stderr).toBe(0);
    const out = indexRun.stdout;
    expect(out).toMatch(/^\s*added:\s+2 \(/m);
    expect(out).toContain('reviving-diplomatic-ties-istanbul-talks.md');
    expect(out).toMatch(/^\s*changed:\s+0$/m);
    expect(out).toMatch(/^\s*removed:\s+0$/m);
    expect(out).toMatch(/^\s*unchanged:\s+0$/m);
    expect(out).toMatch(/^\s*embedded:\s+[1-9]\d* chunks, [1-9]\d* sentences$/m);
    expect(out).toMatch(/^\s*time:\s+\d+\.\d s$/m);
    // Progress goes to stderr, keeping stdout clean.
    expect(indexRun.stderr).toMatch(/Embedding \d+ chunks and sentences from 2 source\(s\)/);
    expect((await readdir(indexDir)).filter((name) => name.startsWith('gen-'))).toHaveLength(1);

    const again = await runCli(['index', '--sources', sourcesDir, '--index', indexDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Index is up to date; nothing to embed.');
    expect(again.stdout).toMatch(/^\s*unchanged:\s+2$/m);
    expect(again.stdout).toMatch(/^\s*embedded:\s+0 chunks, 0 sentences$/m);
  });

  it('ask --json prints exactly the documented fields', async () => {
    const result = await runCli(['ask', '--index', indexDir, '--sources', sourcesDir, '--json', 'Which properties does Russia want returned?']);
    expect(result.code, result.stderr).toBe(0);
    const answer = expectJsonAnswer(JSON.parse(result.stdout));
    expect(answer.question).toBe('Which properties does Russia want returned?');
    expect(answer.answered).toBe(true);
    expect(answer.quotes.length).toBeGreaterThan(0);
    expect(answer.quotes.some((quote) => quote.text.includes('six') && quote.text.includes('properties'))).toBe(true);
    for (const quote of answer.quotes) expect(TITLES).toContain(quote.source.title);
  });

  it('ask --json on an off-topic question adds a reason and no quotes', async () => {
    const result = await runCli(['ask', '--index', indexDir, '--json', 'What is the capital of France?']);
    expect(result.code, result.stderr).toBe(0);
    const answer = expectJsonAnswer(JSON.parse(result.stdout));
    expect(answer.answered).toBe(false);
    expect(answer.quotes).toEqual([]);
    expect(answer.reason).toBeTruthy();
  });

  it('ask --stdin answers one JSON line per input line, in order, blank lines included', async () => {
    const questions = ['Which properties does Russia want returned?', '', 'What is the capital of France?', 'Who led the talks in Istanbul?'];
    const result = await runCli(['ask', '--index', indexDir, '--stdin'], { input: `${questions.join('\n')}\n` });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(4);
    const answers = lines.map((line) => expectJsonAnswer(JSON.parse(line)));
    expect(answers.map((answer) => answer.question)).toEqual(questions);
    expect(answers.map((answer) => answer.answered)).toEqual([true, false, false, true]);
    expect(answers[1]!.reason).toBe('The question is empty.');
  });

  it('ask with no index builds it first, then answers', async () => {
    const fresh = tempDir('cli-fresh-index');
    const result = await runCli(['ask', '--index', fresh, '--sources', sourcesDir, 'Which properties does Russia want returned?']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/No index in .* yet; building it from/);
    expect(result.stdout).toContain('six');
    expect(result.stdout).toMatch(/Sources:\n\[1\] .+ — .+, line \d+/);
    expect((await readdir(fresh)).filter((name) => name.startsWith('gen-'))).toHaveLength(1);
  });

  it('sources lists both titles with chunk counts', async () => {
    const [text, json] = await Promise.all([runCli(['sources', '--index', indexDir]), runCli(['sources', '--index', indexDir, '--json'])]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^2 source\(s\), index built /);
    for (const title of TITLES) expect(text.stdout).toContain(`- ${title}`);
    expect(text.stdout.match(/· [1-9]\d* chunks ·/g)).toHaveLength(2);

    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as { builtAt: string; sources: { title: string; chunks: number }[] };
    expect(listed.builtAt).toBeTruthy();
    expect(listed.sources.map((source) => source.title).sort()).toEqual([...TITLES].sort());
    for (const source of listed.sources) expect(source.chunks).toBeGreaterThan(0);
  });

  it('an invalid setting exits with code 2 and names the setting', async () => {
    const [result, index] = await Promise.all([
      runCli(['ask', '--index', indexDir, 'Who led the talks in Istanbul?'], { env: { EMBED_BATCH_SIZE: 'zero' } }),
      runCli(['index', '--sources', sourcesDir, '--index', indexDir], { env: { EMBED_BATCH_SIZE: '0' } }),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('EMBED_BATCH_SIZE');
    expect(result.stderr).toContain('"zero"');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(result.stdout).toBe('');

    expect(index.code).toBe(2);
    expect(index.stderr).toMatch(/EMBED_BATCH_SIZE must be at least 1/);
  });

  it.each([
    ['INDEX_DIR', /^docent: INDEX_DIR .* is a file, not a folder/m],
    ['MODEL_CACHE_DIR', /^docent: MODEL_CACHE_DIR .*: .* is a file, not a folder/m],
  ])('a %s that is a file is named in a message, not a stack trace', async (setting, message) => {
    const file = path.join(tempDir(`cli-${setting}`), 'a-file');
    await writeFile(file, 'not a folder');
    const result = await runCli(['ask', '--index', setting === 'INDEX_DIR' ? file : indexDir, 'Who led the talks in Istanbul?'], {
      env: setting === 'MODEL_CACHE_DIR' ? { MODEL_CACHE_DIR: file } : {},
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('an unknown MODEL_ID', () => {
  // A stand-in for the model hub on 127.0.0.1, so no request leaves the machine: it has no models.
  let hub: Server;
  let hubUrl: string;
  const requested: string[] = [];
  beforeAll(async () => {
    hub = createServer((request, response) => {
      requested.push(request.url ?? '');
      response.writeHead(404).end('Entry not found');
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => hub.close(resolve)));

  it('that the hub does not have is named in one line, not "fetch failed" and a stack trace', async () => {
    const result = await runCli(['ask', '--index', tempDir('cli-unknown-model'), 'Who led the talks?'], {
      env: { MODEL_ID: 'nobody/no-such-model', MODEL_HUB_URL: hubUrl, MODEL_CACHE_DIR: tempDir('cli-unknown-model-cache') },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`docent: MODEL_ID nobody/no-such-model: the model hub at ${hubUrl} has no such model`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(requested.some((url) => url.startsWith('/nobody/no-such-model/'))).toBe(true);
  });

  it('with a hub that cannot be reached says so and names MODEL_HUB_URL', async () => {
    const closed = await new Promise<string>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
        probe.close(() => resolve(url));
      });
    });
    const result = await runCli(['ask', '--index', tempDir('cli-unreachable-hub'), 'Who led the talks?'], {
      env: { MODEL_ID: 'nobody/no-such-model', MODEL_HUB_URL: closed, MODEL_CACHE_DIR: tempDir('cli-unreachable-hub-cache') },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`docent: MODEL_ID nobody/no-such-model: the model hub at ${closed} could not be reached`);
    expect(result.stderr).toContain('MODEL_HUB_URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

/** A listing far longer than a pipe holds, from an index of empty sources written directly. */
async function indexOfManySources(count: number): Promise<string> {
  const dir = tempDir('cli-many-index');
  const generation = 'gen-20260101T000000-000000';
  const shards: Record<string, string> = {};
  const sources = [];
  for (let i = 0; i < count; i++) {
    const id = `article-${String(i).padStart(5, '0')}.md`;
    const shard = `${id}-0000`;
    shards[id] = shard;
    await mkdir(path.join(dir, 'shards', shard), { recursive: true });
    await writeFile(path.join(dir, 'shards', shard, 'records.json'), JSON.stringify({ sentences: [], chunks: [], terms: {} }));
    await writeFile(path.join(dir, 'shards', shard, 'vectors.bin'), '');
    sources.push({
      id,
      path: `sources/${id}`,
      title: `A long enough title for article number ${i}`,
      hash: `h${i}`,
      chunks: 0,
      sentences: 0,
      indexedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  const settings = { modelId: 'sentence-transformers/all-MiniLM-L6-v2', dimensions: 384, chunkerVersion: 5, chunkMaxTokens: 256, overlapSentences: 1 };
  await mkdir(path.join(dir, generation));
  await writeFile(path.join(dir, generation, 'shards.json'), JSON.stringify(shards));
  await writeFile(path.join(dir, generation, 'manifest.json'), JSON.stringify({ version: 3, settings, builtAt: '2026-01-01T00:00:00.000Z', sources }));
  await writeFile(path.join(dir, 'CURRENT'), `${generation}\n`);
  return dir;
}

it('sources piped into a reader that stops after one line ends quietly', async () => {
  const dir = await indexOfManySources(2_000);
  const result = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    const shell = spawn('sh', ['-c', `node --import tsx src/cli/main.ts sources --index '${dir}' | head -1`], { cwd: REPO_ROOT, env: cliEnv() });
    let stdout = '';
    let stderr = '';
    shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    shell.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    shell.on('error', reject);
    shell.on('close', () => resolve({ stdout, stderr }));
  });
  expect(result.stdout).toMatch(/^2000 source\(s\), index built /);
  expect(result.stderr).not.toMatch(/EPIPE|Error/);
});
