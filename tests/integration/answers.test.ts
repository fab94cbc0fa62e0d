/** Answers over the real `sources/`, with the real model and a real Vectra index in a temp folder. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/types.ts';
import { openDocent, type Docent } from '../../src/docent.ts';
import { commonWordTest, type Embedder } from '../../src/embeddings/embedder.ts';
import { expectExactQuotes, loadTestEmbedder, removeTempDirs, tempDir, testConfig } from './helpers.ts';

let embedder: Embedder;
let docent: Docent;

beforeAll(async () => {
  embedder = await loadTestEmbedder();
  const config = testConfig('sources', tempDir('answers-index'));
  docent = await openDocent(config, {}, embedder);
});

afterAll(async () => {
  await embedder?.dispose();
  removeTempDirs();
});

/** Every answer in this file goes through here, so every quote is checked against its file. */
async function ask(question: string, offset?: number): Promise<Answer> {
  const answer = await docent.ask(question, offset === undefined ? {} : { offset });
  expectExactQuotes(answer);
  expect(answer.quotes.length).toBeLessThanOrEqual(3);
  return answer;
}

/** All quotes for a question, page by page (3 per page), until hasMore is false. */
async function allPages(question: string): Promise<Answer[]> {
  const pages: Answer[] = [];
  for (let offset = 0; ; offset += 3) {
    const page = await ask(question, offset);
    pages.push(page);
    if (!page.hasMore) return pages;
    expect(pages.length).toBeLessThan(100);
  }
}

const namesLeaders = (text: string) => /Darchiy?ev/.test(text) && text.includes('Coulter');

describe('answers over the seed articles', () => {
  it('answers which properties Russia wants returned with the six-properties sentence', async () => {
    const answer = await ask('Which properties does Russia want returned?');
    expect(answer.answered).toBe(true);
    expect(answer.reason).toBeUndefined();
    expect(answer.quotes.length).toBeGreaterThan(0);
    const six = answer.quotes.filter((quote) => quote.text.includes('six') && quote.text.includes('properties'));
    expect(six.length).toBeGreaterThan(0);
    expect(six.some((quote) => quote.text.includes('Killenworth') || quote.text.includes('six Russian-owned properties'))).toBe(true);
    // Scores are ranked best first.
    const scores = answer.quotes.map((quote) => quote.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it.each(['How long did the meeting go on?', 'What would bringing back flights do for ordinary people?', 'Which properties does Russia want back?'])(
    'answers a paraphrased question rather than decline it: %s',
    async (question) => {
      const answer = await ask(question);
      expect(answer.answered).toBe(true);
      expect(answer.confidence).toMatch(/^(high|low)$/);
      expect(answer.quotes.length).toBeGreaterThan(0);
    },
  );

  it.each(['What is the capital of France?', 'How do I bake sourdough bread?', 'Who won the 2018 FIFA World Cup?', 'How does photosynthesis work?'])(
    'declines an off-topic question: %s',
    async (question) => {
      const answer = await ask(question);
      expect(answer.answered).toBe(false);
      expect(answer.quotes).toEqual([]);
      expect(answer.reason).toBeTruthy();
      expect(answer.hasMore).toBe(false);
    },
  );

  it('tells words rare in English (which the model reads in pieces) from common ones', () => {
    const isCommonWord = commonWordTest(embedder);
    expect(['talks', 'embassy', 'flights', 'Russia'].filter((word) => !isCommonWord(word))).toEqual([]);
    expect(['sourdough', 'Kubernetes', 'Zakharova', 'SARS'].filter((word) => isCommonWord(word))).toEqual([]);
  });

  it('declines a question about a rare thing the sources never name, though its other words fit them', async () => {
    const answer = await ask('Which embassy staff use Kubernetes?');
    expect(answer.answered).toBe(false);
  });

  describe('who led the talks in Istanbul', () => {
    const question = 'Who led the talks in Istanbul?';

    /** 1-based rank of the first quote naming both Darchiev (Darchiyev) and Coulter, or undefined. */
    async function leaderSentenceRank(): Promise<number | undefined> {
      const quotes = (await allPages(question)).flatMap((page) => page.quotes);
      const index = quotes.findIndex((quote) => namesLeaders(quote.text));
      return index === -1 ? undefined : index + 1;
    }

    it('answers with high confidence, the sentence naming Darchiev and Coulter first', async () => {
      const first = await ask(question);
      expect(first.answered).toBe(true);
      expect(first.confidence).toBe('high');
      expect(first.quotes.length).toBe(3);
      expect(namesLeaders(first.quotes[0]!.text)).toBe(true);
      expect(await leaderSentenceRank()).toBe(1);
    });
  });

  describe('paging', () => {
    // Broad on purpose: many sentences answer it, so there is more than one page.
    const question = 'What was discussed at the Istanbul talks?';

    it('pages with offset: each page is new quotes, hasMore is true until the last page', async () => {
      const pages = await allPages(question);
      expect(pages.length).toBeGreaterThan(1);
      const seen = new Set<string>();
      pages.forEach((page, i) => {
        expect(page.answered).toBe(true);
        const last = i === pages.length - 1;
        expect(page.hasMore).toBe(!last);
        // Every page but the last is full; the last one has at least one quote.
        if (!last) expect(page.quotes.length).toBe(3);
        else expect(page.quotes.length).toBeGreaterThan(0);
        for (const quote of page.quotes) {
          const key = `${quote.source.id}@${quote.start}-${quote.end}`;
          expect(seen.has(key), `${key} repeated on page ${i + 1}`).toBe(false);
          seen.add(key);
        }
      });
      // Scores never increase from one page to the next.
      const scores = pages.flatMap((page) => page.quotes.map((quote) => quote.score));
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('the second page differs from the first and the same offset gives the same page', async () => {
      const first = await ask(question);
      const second = await ask(question, 3);
      const again = await ask(question, 3);
      expect(first.hasMore).toBe(true);
      expect(second.quotes.length).toBeGreaterThan(0);
      const starts = (answer: Answer) => answer.quotes.map((quote) => `${quote.source.id}@${quote.start}`);
      expect(starts(second).filter((key) => starts(first).includes(key))).toEqual([]);
      expect(starts(again)).toEqual(starts(second));
    });

    it('an offset past the last quote gives no quotes, a reason and hasMore false', async () => {
      const pages = await allPages(question);
      const total = pages.reduce((sum, page) => sum + page.quotes.length, 0);
      const beyond = await ask(question, total);
      expect(beyond.quotes).toEqual([]);
      expect(beyond.hasMore).toBe(false);
      expect(beyond.reason).toBeTruthy();
    });

    it('a declined question has no more quotes at any offset', async () => {
      const answer = await ask('What is the capital of France?', 3);
      expect(answer.answered).toBe(false);
      expect(answer.quotes).toEqual([]);
      expect(answer.hasMore).toBe(false);
    });
  });

  it('lists both seed articles as sources with titles and chunk counts', () => {
    const { sources, builtAt } = docent.sources();
    expect(builtAt).toBeTruthy();
    expect(sources.map((source) => source.id).sort()).toEqual(['reviving-diplomatic-ties-istanbul-talks.md', 'us-russia-istanbul-talks-april-2025.md']);
    for (const source of sources) {
      expect(source.title.trim()).not.toBe('');
      expect(source.chunks).toBeGreaterThan(0);
      expect(source.path).toBe(`sources/${source.id}`);
    }
  });
});
