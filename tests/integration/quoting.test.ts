/**
 * Quotes stay verbatim and correctly located in awkward files: a byte-order mark, CRLF line
 * endings, decomposed (NFD) accents, and a sentence too long to quote whole.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDocent, type Docent } from '../../src/docent.ts';
import type { Embedder } from '../../src/embeddings/embedder.ts';
import { expectExactQuotes, loadTestEmbedder, MAX_QUOTE_CHARS, removeTempDirs, seededSourcesDir, sourceText, tempDir, testConfig } from './helpers.ts';

const LONG_SENTENCE =
  'The Viennese coffee house tradition, which UNESCO recognised as intangible cultural heritage in 2011, ' +
  'grew out of the city’s long contact with the Ottoman Empire and the arrival of coffee beans after the siege of 1683, ' +
  'and over the following centuries the marble tables, bentwood chairs and racks of newspapers became as much a part of the ' +
  'furniture of public life as the parliament or the opera, so that writers, composers and revolutionaries spent whole days ' +
  'there, and it was in these rooms that the waiters, addressed as Herr Ober by generations of regulars, served the Melange, ' +
  'a drink of espresso and steamed milk crowned with milk foam, always with a glass of water refilled without being asked.';

/** NFD on purpose: "Café" and "Schönbrunn" spelled with combining marks. */
const ARTICLE = [
  '\uFEFF---',
  'title: "Cafe\u0301 Culture in Vienna"',
  '---',
  '',
  '# Cafe\u0301 Culture in Vienna',
  '',
  'The Cafe\u0301 Central opened in 1876 in the Palais Ferstel and was a favourite of Leon Trotsky.',
  '',
  LONG_SENTENCE,
  '',
  'Near Scho\u0308nbrunn Palace, the Cafe\u0301 Dommayer served Sachertorte to visitors after their tour of the imperial apartments.',
  '',
].join('\r\n');

let embedder: Embedder;
let docent: Docent;
let articlePath: string;

beforeAll(async () => {
  embedder = await loadTestEmbedder();
  const sourcesDir = await seededSourcesDir('quoting');
  articlePath = path.join(sourcesDir, 'vienna-cafes.md');
  await writeFile(articlePath, ARTICLE, 'utf8');
  docent = await openDocent(testConfig(sourcesDir, tempDir('quoting-index')), {}, embedder);
});

afterAll(async () => {
  await embedder?.dispose();
  removeTempDirs();
});

describe('quoting awkward files', () => {
  it('the test file really is BOM-prefixed, CRLF and NFD', async () => {
    const raw = await readFile(articlePath, 'utf8');
    expect(raw.startsWith('\uFEFF')).toBe(true);
    expect(raw).toContain('\r\n');
    expect(raw).not.toBe(raw.normalize('NFC'));
  });

  it('trims an over-long sentence around the asked-about words, still verbatim', async () => {
    expect(LONG_SENTENCE.length).toBeGreaterThan(MAX_QUOTE_CHARS + 100);
    const answer = await docent.ask('What drink of espresso and steamed milk did Viennese waiters serve?');
    expectExactQuotes(answer);
    expect(answer.answered).toBe(true);
    const trimmed = answer.quotes.find((quote) => quote.source.id === 'vienna-cafes.md' && quote.line === 9);
    expect(trimmed).toBeDefined();
    // Cut at the start (the asked-about words are late in the sentence), so it opens with an ellipsis.
    expect(trimmed!.text.startsWith('…')).toBe(true);
    expect(trimmed!.text).toContain('waiters');
    expect(trimmed!.text.length).toBeLessThanOrEqual(MAX_QUOTE_CHARS + 2);
    expect(trimmed!.end - trimmed!.start).toBeLessThan(LONG_SENTENCE.length);
  });

  it('quotes decomposed accents at NFC offsets, on the right line, with an NFC title', async () => {
    const answer = await docent.ask('Which café near Schönbrunn Palace served Sachertorte?');
    expectExactQuotes(answer);
    expect(answer.answered).toBe(true);
    const dommayer = answer.quotes.find((quote) => quote.text.includes('Dommayer'));
    expect(dommayer).toBeDefined();
    expect(dommayer!.text).toContain('Café Dommayer');
    expect(dommayer!.text).toContain('Schönbrunn');
    expect(dommayer!.line).toBe(11);
    expect(dommayer!.source.title).toBe('Café Culture in Vienna');
    expect(sourceText(dommayer!.source.path).slice(dommayer!.start, dommayer!.end)).toBe(dommayer!.text);
  });
});
