/**
 * Adding and removing articles, and what the sources miss, with the real engine and model: web
 * pages served by a local HTTP server on 127.0.0.1 (allowed by the explicit test setting), files
 * written by real writers, the audit log, and unanswered questions grouped by topic.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Docent, openDocent } from '../../src/docent.ts';
import type { EngineConfig } from '../../src/config/schema.ts';
import { pdfFixture } from '../fixtures/documents.ts';
import { loadTestEmbedder, REPO_ROOT, removeTempDirs, runCli, seededSourcesDir, tempDir, testConfig } from './helpers.ts';

let server: Server;
let base: string;
let config: EngineConfig;
let docent: Docent;
const requests: string[] = [];

beforeAll(async () => {
  const page = await readFile(path.join(REPO_ROOT, 'tests', 'fixtures', 'article.html'));
  const pdf = await pdfFixture();
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url === '/news/bridge') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    else if (request.url === '/old-address') response.writeHead(301, { location: '/news/bridge' }).end();
    else if (request.url === '/report.pdf') response.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
    else if (request.url === '/archive.zip') response.writeHead(200, { 'content-type': 'application/zip' }).end('PK');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config = testConfig(await seededSourcesDir('admin'), tempDir('admin-index'), { ALLOW_LOOPBACK_URLS: 'true' });
  docent = await openDocent(config, {}, await loadTestEmbedder());
});

afterAll(async () => {
  await docent?.close();
  await new Promise((resolve) => server?.close(resolve));
  removeTempDirs();
});

const auditLines = async () =>
  (await readFile(config.AUDIT_LOG, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);

describe('adding and removing sources', () => {
  it('adds a web page by its address (following a redirect), with its canonical url in front matter, indexed at once', async () => {
    const added = await docent.addSource({ url: `${base}/old-address` }, 'discord:123 (admin)');
    expect(added.source).toMatchObject({ id: 'harbour-bridge-repairs-finish-early.md', title: 'Harbour Bridge Repairs Finish Early' });
    expect(added.source.chunks).toBeGreaterThan(0);
    expect(added.summary.added).toEqual(['harbour-bridge-repairs-finish-early.md']);
    expect(added.summary.unchanged).toHaveLength(2);
    const written = await readFile(path.join(config.SOURCES_DIR, 'harbour-bridge-repairs-finish-early.md'), 'utf8');
    expect(written).toMatch(/^---\ntitle: Harbour Bridge Repairs Finish Early\n/);
    expect(written).toContain("url: 'https://news.example.org/2025/03/harbour-bridge-repairs'");
    expect(requests).toEqual(['/old-address', '/news/bridge']);

    const answer = await docent.ask('What did the bridge project cost?');
    expect(answer.quotes[0]!.text).toBe('The project cost 48 million euros, about five percent less than the budget set in 2023.');
    expect(answer.quotes[0]!.link).toMatch(/^https:\/\/news\.example\.org\/2025\/03\/harbour-bridge-repairs#:~:text=The%20project%20cost/);
  });

  it('adds a PDF by its address and cites it by page, linking to that page', async () => {
    await docent.addSource({ url: `${base}/report.pdf` }, 'discord:123 (admin)');
    const answer = await docent.ask('How deep did the deepest well go?');
    expect(answer.quotes[0]!).toMatchObject({ page: 2, link: `${base}/report.pdf#page=2` });
  });

  it('never overwrites: the same page again is refused, and nothing is fetched from a type it cannot read', async () => {
    await expect(docent.addSource({ url: `${base}/news/bridge` }, 'cli:someone')).rejects.toThrow(
      'is already in the sources as harbour-bridge-repairs-finish-early.md',
    );
    await expect(docent.addSource({ url: `${base}/archive.zip` }, 'cli:someone')).rejects.toThrow('is application/zip');
    await expect(docent.addSource({ file: { name: 'notes.exe', bytes: new Uint8Array([1, 2]) } }, 'cli:someone')).rejects.toThrow('notes.exe is a .exe file');
  });

  it('removes an article into .removed/ (nothing deleted), re-indexes without it, and audits every attempt', async () => {
    const removed = await docent.removeSource('harbour-bridge-repairs-finish-early.md', 'discord:123 (admin)');
    expect(removed.summary.removed).toEqual(['harbour-bridge-repairs-finish-early.md']);
    expect(docent.sources().sources.map((source) => source.id)).not.toContain('harbour-bridge-repairs-finish-early.md');
    expect(await readFile(removed.movedTo, 'utf8')).toContain('Harbour Bridge');
    expect(path.dirname(removed.movedTo)).toBe(path.join(config.SOURCES_DIR, '.removed'));
    await expect(docent.removeSource('../../etc/passwd', 'cli:someone')).rejects.toThrow('There is no source ../../etc/passwd');

    const audit = await auditLines();
    expect(audit.map(({ who, action, result }) => `${who} ${action} ${result}`)).toEqual([
      'discord:123 (admin) add ok',
      'discord:123 (admin) add ok',
      'cli:someone add refused',
      'cli:someone add refused',
      'cli:someone add refused',
      'discord:123 (admin) remove ok',
      'cli:someone remove refused',
    ]);
    expect(audit[0]).toMatchObject({ what: `${base}/old-address`, detail: 'harbour-bridge-repairs-finish-early.md' });
    for (const entry of audit) expect(Date.parse(entry.at!)).not.toBeNaN();
  });
});

describe('what the sources miss', () => {
  it('groups unanswered phrasings of one topic into one line with a count, apart from other topics', async () => {
    const asked = [
      'How do I book a meeting room?',
      'Who handles the coffee machine repairs?',
      'How can I reserve a conference room?',
      'room booking for meetings',
      'the coffee machine is broken, who fixes it?',
    ];
    for (const question of asked) expect((await docent.ask(question, { asker: 'hashed-user' })).confidence ?? 'declined').not.toBe('high');
    await writeFile(
      config.FEEDBACK_LOG,
      `${JSON.stringify({ time: new Date().toISOString(), question: 'Who led the talks?', sources: ['a.md'], verdict: 'not_helpful', user: 'x' })}\n`,
    );
    const report = await docent.gaps(new Date(Date.now() - 3_600_000));
    const topics = report.topics.filter((topic) => asked.includes(topic.question));
    expect(topics.map((topic) => [topic.count, [...topic.phrasings].sort()])).toEqual([
      [3, ['How can I reserve a conference room?', 'How do I book a meeting room?', 'room booking for meetings']],
      [2, ['Who handles the coffee machine repairs?', 'the coffee machine is broken, who fixes it?']],
    ]);
    expect(report.notHelpful).toEqual([expect.objectContaining({ question: 'Who led the talks?' })]);
    const log = (await readFile(config.GAPS_LOG, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(log.at(-1)).toMatchObject({ question: asked.at(-1), asker: 'hashed-user', outcome: expect.stringMatching(/^(declined|low)$/) });
    expect(typeof log.at(-1).bestScore).toBe('number');
    expect(await docent.gaps(new Date(Date.now() + 60_000))).toMatchObject({ topics: [], notHelpful: [] });
  });
});

describe('the terminal', () => {
  it('docent add, gaps and remove', async () => {
    const sources = await seededSourcesDir('admin-cli');
    const index = tempDir('admin-cli-index');
    const file = path.join(tempDir('admin-cli-files'), 'field-report.pdf');
    await writeFile(file, await pdfFixture());
    const env = { GAPS_LOG: path.join(tempDir('admin-cli-logs'), 'gaps.jsonl') };
    const add = await runCli(['add', file, '--sources', sources, '--index', index], { env });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^Added Quarterly Field Report as quarterly-field-report\.md: [1-9]\d* chunks, [1-9]\d* sentences\.$/m);
    expect(await readdir(sources)).toContain('quarterly-field-report.md');

    const ask = await runCli(['ask', '--sources', sources, '--index', index, 'Who led the drilling crew?'], { env });
    expect(ask.stdout).toMatch(/\[1\] Quarterly Field Report — .*quarterly-field-report\.md, page 2$/m);
    await runCli(['ask', '--sources', sources, '--index', index, 'Where is the staff canteen?'], { env });
    const gaps = await runCli(['gaps', '--index', index, '--days', '1'], { env });
    expect(gaps.stdout).toMatch(/^\s+1 × Where is the staff canteen\?$/m);

    const remove = await runCli(['remove', 'quarterly-field-report.md', '--sources', sources, '--index', index], { env });
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stdout).toMatch(
      /^Removed Quarterly Field Report \(quarterly-field-report\.md\); the file is kept as .*\.removed\/.*quarterly-field-report\.md\.$/m,
    );
    const missing = await runCli(['add', path.join(sources, 'nothing-here.md'), '--sources', sources, '--index', index], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^docent: .*nothing-here\.md does not exist$/m);
  });
});
