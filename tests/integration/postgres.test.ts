/**
 * Docent on PostgreSQL + pgvector, end to end: the real model, the real `pg` client, PGlite with
 * pgvector served on 127.0.0.1. It answers as the Vectra store does, the CLI indexes and answers
 * through DATABASE_URL, and a second engine on the same database sees a re-index the first did.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/types.ts';
import { openDocent } from '../../src/docent.ts';
import type { Embedder } from '../../src/embeddings/embedder.ts';
import { startLocalPostgres, type LocalPostgres } from '../../src/index/postgres/localPostgres.ts';
import { expectExactQuotes, loadTestEmbedder, removeTempDirs, runCli, seededSourcesDir, tempDir, testConfig } from './helpers.ts';

const QUESTIONS = [
  'Who led the talks in Istanbul?',
  'Which properties does Russia want returned?',
  'What would bringing back direct flights do?',
  'How do I bake sourdough bread?',
];

let embedder: Embedder;
let postgres: LocalPostgres;

beforeAll(async () => {
  [embedder, postgres] = await Promise.all([loadTestEmbedder(), startLocalPostgres()]);
});

afterAll(async () => {
  await embedder?.dispose();
  await postgres?.stop();
  removeTempDirs();
});

const comparable = (answer: Answer) => ({
  answered: answer.answered,
  confidence: answer.confidence,
  quotes: answer.quotes.map(({ text, source, start, end, line }) => ({ text, id: source.id, start, end, line })),
});

describe('the PostgreSQL store', () => {
  it('answers exactly as the Vectra store does', async () => {
    const sourcesDir = await seededSourcesDir('pg-same');
    const onVectra = await openDocent(testConfig(sourcesDir, tempDir('pg-same-vectra')), {}, embedder);
    const onPostgres = await openDocent(testConfig(sourcesDir, tempDir('pg-same-unused'), { DATABASE_URL: postgres.url }), {}, embedder);
    try {
      expect(onPostgres.sources().sources).toEqual(onVectra.sources().sources.map((source) => ({ ...source, indexedAt: expect.any(String) })));
      for (const question of QUESTIONS) {
        const [vectra, pg] = [await onVectra.ask(question), await onPostgres.ask(question)];
        expectExactQuotes(pg);
        expect(comparable(pg), question).toEqual(comparable(vectra));
        // Both hold float32 vectors; only the order of summation differs.
        pg.quotes.forEach((quote, i) => expect(Math.abs(quote.score - vectra.quotes[i]!.score), question).toBeLessThan(1e-4));
      }
    } finally {
      await onVectra.close();
      await onPostgres.close();
    }
  });

  it('lets a second process serve the index another one re-indexed', async () => {
    const sourcesDir = await seededSourcesDir('pg-two');
    const own = await startLocalPostgres();
    const url = own.url;
    await runCli(['index'], { env: { SOURCES_DIR: sourcesDir, DATABASE_URL: url } }).then((result) => expect(result.stderr).not.toMatch(/Error/));
    const config = testConfig(sourcesDir, tempDir('pg-two-unused'), { DATABASE_URL: url });
    const serving = await openDocent(config, {}, embedder);
    try {
      const question = 'Who tended the lamp at Port Elwin?';
      expect((await serving.ask(question)).quotes.some((quote) => quote.source.id === 'lighthouse.md')).toBe(false);

      await writeFile(
        path.join(sourcesDir, 'lighthouse.md'),
        '# The Lighthouse at Port Elwin\n\nIts keeper, Agnes Thornbury, tended the lamp at Port Elwin for forty-two years.\n',
      );
      const indexed = await runCli(['index'], { env: { SOURCES_DIR: sourcesDir, DATABASE_URL: url } });
      expect(indexed.code, indexed.stderr).toBe(0);
      expect(indexed.stdout).toMatch(/lighthouse\.md/);

      const asked = await runCli(['ask', '--json', question], { env: { SOURCES_DIR: sourcesDir, DATABASE_URL: url } });
      expect(asked.code, asked.stderr).toBe(0);
      expect(JSON.parse(asked.stdout).quotes[0].source.id).toBe('lighthouse.md');

      // The engine that was already serving picks the new generation up at its next question.
      const answer = await serving.ask(question);
      expect(answer.quotes[0]!.source.id).toBe('lighthouse.md');
      expect(serving.sources().sources.map((source) => source.id)).toContain('lighthouse.md');
    } finally {
      await serving.close();
      await own.stop();
    }
  });
});
