/** An index written by an earlier version of Docent is rebuilt on open, not served half-understood. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDocent } from '../../src/docent.ts';
import type { Embedder } from '../../src/embeddings/embedder.ts';
import { readCurrentGeneration } from '../../src/index/generations.ts';
import { expectExactQuotes, loadTestEmbedder, removeTempDirs, seededSourcesDir, tempDir, testConfig } from './helpers.ts';

let embedder: Embedder;

beforeAll(async () => {
  embedder = await loadTestEmbedder();
});

afterAll(async () => {
  await embedder?.dispose();
  removeTempDirs();
});

it('rebuilds an index from an older format before answering from it', async () => {
  const config = testConfig(await seededSourcesDir('upgrade'), tempDir('upgrade-index'));
  await (await openDocent(config, {}, embedder)).reindex();
  const first = await readCurrentGeneration(config.INDEX_DIR);
  const manifestFile = path.join(config.INDEX_DIR, first!, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { version: number };
  await writeFile(manifestFile, JSON.stringify({ ...manifest, version: 1 }));

  const log: string[] = [];
  const docent = await openDocent(config, { log: (message) => log.push(message) }, embedder);
  expect(log.join('\n')).toMatch(/older version of Docent; rebuilding/);
  expect(await readCurrentGeneration(config.INDEX_DIR)).not.toBe(first);
  const answer = await docent.ask('Who led the talks in Istanbul?');
  expect(answer.answered).toBe(true);
  expectExactQuotes(answer);
});
