/**
 * Web pages, PDFs and Word files as sources: real files (a committed page; a PDF and a DOCX written
 * by pdf-lib and docx) through the loader and the real model, with every quote an exact slice of
 * the Markdown Docent stored for its file.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDocent, type Docent } from '../../src/docent.ts';
import { loadSources } from '../../src/sources/loadSources.ts';
import { docxFixture, pdfFixture } from '../fixtures/documents.ts';
import { loadTestEmbedder, removeTempDirs, REPO_ROOT, tempDir, testConfig } from './helpers.ts';

let sourcesDir: string;
let docent: Docent;

beforeAll(async () => {
  sourcesDir = tempDir('documents');
  await copyFile(path.join(REPO_ROOT, 'tests', 'fixtures', 'article.html'), path.join(sourcesDir, 'bridge.html'));
  await writeFile(path.join(sourcesDir, 'field-report.pdf'), await pdfFixture());
  await writeFile(path.join(sourcesDir, 'onboarding.docx'), await docxFixture());
  await writeFile(path.join(sourcesDir, 'broken.pdf'), 'not a pdf at all');
  docent = await openDocent(testConfig(sourcesDir, tempDir('documents-index')), {}, await loadTestEmbedder());
});

afterAll(async () => {
  await docent?.close();
  removeTempDirs();
});

async function expectStoredSlice(quote: { source: { path: string }; start: number; end: number; text: string }): Promise<void> {
  const stored = await readFile(path.resolve(quote.source.path), 'utf8');
  expect(stored.slice(quote.start, quote.end)).toBe(quote.text.replace(/^…/, '').replace(/…$/, ''));
}

describe('converted sources', () => {
  it('reads the page, the PDF and the Word file, stores their Markdown under .converted/, and reports the broken one', async () => {
    const { documents, problems } = await loadSources(sourcesDir, { maxBytes: 5_000_000 });
    expect(documents.map((document) => document.id).sort()).toEqual(['bridge.html', 'field-report.pdf', 'onboarding.docx']);
    expect(problems).toEqual([expect.objectContaining({ id: 'broken.pdf', reason: expect.stringMatching(/^is not a readable PDF/) })]);
    for (const document of documents) {
      expect(path.resolve(document.path)).toBe(path.join(sourcesDir, '.converted', `${document.id}.md`));
      expect(await readFile(path.resolve(document.path), 'utf8')).toBe(document.text);
      expect(document.original).toMatch(new RegExp(`${document.id}$`));
    }
    const page = documents.find((document) => document.id === 'bridge.html')!;
    expect(page).toMatchObject({
      title: 'Harbour Bridge Repairs Finish Early',
      date: '2025-03-14',
      url: 'https://news.example.org/2025/03/harbour-bridge-repairs',
    });
    // Readability keeps the article and drops the navigation, the sidebar and the footer.
    expect(page.text).toContain('Repairs to the Harbour Bridge finished two weeks ahead of schedule');
    expect(page.text).not.toMatch(/Subscribe now|Most read|Cookies/);
    const pdf = documents.find((document) => document.id === 'field-report.pdf')!;
    expect(pdf).toMatchObject({ title: 'Quarterly Field Report', date: '2025-04-10' });
    expect(pdf.pageStarts).toHaveLength(2);
    expect(documents.find((document) => document.id === 'onboarding.docx')!.title).toBe('Onboarding Guide');
  });

  it('quotes a web page with a link that opens it at the quote', async () => {
    const answer = await docent.ask('How many steel cables were replaced on the bridge?');
    const quote = answer.quotes[0]!;
    expect(quote.text).toContain('312 steel cables');
    await expectStoredSlice(quote);
    expect(quote.source.url).toBe('https://news.example.org/2025/03/harbour-bridge-repairs');
    expect(quote.link).toBe(
      'https://news.example.org/2025/03/harbour-bridge-repairs#:~:text=The%20work%20replaced%20312%20steel%20cables,resurfaced%20both%20lanes%20of%20the%20deck.',
    );
  });

  it('cites a PDF quote by its page', async () => {
    const answer = await docent.ask('Who led the drilling crew?');
    const quote = answer.quotes[0]!;
    expect(quote.text).toContain('Maria Okafor led the drilling crew');
    await expectStoredSlice(quote);
    expect(quote.page).toBe(2);
    expect(quote.link).toBeUndefined();
    const first = await docent.ask('How many wells did the survey team map?');
    expect(first.quotes[0]!.text).toContain('forty wells');
    expect(first.quotes[0]!.page).toBe(1);
  });

  it('quotes a Word file, never a page marker or a heading', async () => {
    const answer = await docent.ask('When do new staff get their laptops?');
    expect(answer.quotes[0]!.text).toBe('New staff receive their laptops on the first morning, before the welcome talk.');
    await expectStoredSlice(answer.quotes[0]!);
    const everything = await docent.ask('page', { offset: 0 });
    for (const quote of everything.quotes) expect(quote.text).not.toMatch(/<!--/);
  });
});
