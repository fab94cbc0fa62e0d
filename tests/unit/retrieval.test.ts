import { describe, expect, it } from 'vitest';
import { buildBm25 } from '../../src/eval/bm25.ts';
import { terms, wordSpans } from '../../src/retrieval/terms.ts';
import { unfamiliarWords } from '../../src/retrieval/search.ts';

describe('terms', () => {
  it('drops stopwords and question words', () => {
    expect(terms('What is the kind of thing that they were doing, and when?')).toEqual(terms('thing'));
    expect(terms('Who was it? Where does it happen, and why?')).toEqual(['happen']);
    expect(terms('the of and to in')).toEqual([]);
  });

  it('stems, so inflected forms match', () => {
    expect(terms('returned')).toEqual(terms('return'));
    expect(terms('Returning properties')).toEqual(terms('return property'));
    expect(terms('diplomats')).toEqual(terms('diplomat'));
    expect(terms('flights')).not.toEqual(terms('fights'));
  });

  it('folds case and diacritics, composed or not', () => {
    expect(terms('Café')).toEqual(terms('cafe'));
    expect(terms('Cafe\u0301')).toEqual(terms('CAFE'));
    expect(terms('Zürich Ångström')).toEqual(terms('zurich angstrom'));
  });

  it('splits on punctuation and keeps numbers, in order', () => {
    expect(terms('U.S.-Russia talks, 2025!')).toEqual([...terms('u'), ...terms('s'), ...terms('russia'), ...terms('talks'), '2025']);
    expect(terms('')).toEqual([]);
  });
});

describe('wordSpans', () => {
  it('gives each word its exact span and its stem, undefined for stopwords', () => {
    const text = "The diplomats' talks weren't over.";
    const spans = wordSpans(text);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(['The', 'diplomats', 'talks', "weren't", 'over']);
    expect(spans[0]!.term).toBeUndefined();
    expect(spans[1]!.term).toBe(terms('diplomat')[0]);
    expect(spans[2]!.term).toBe(terms('talk')[0]);
  });
});

describe('buildBm25', () => {
  const texts = [
    'Embassy staffing was discussed in Istanbul.',
    'Embassy operations and embassy staffing levels.',
    'Direct flights between the countries could resume.',
    'The embassy in Moscow needs banking services.',
    'Staffing at the embassy was cut.',
  ];
  const bm25 = buildBm25(texts);

  it('ranks the only document with a rare query term first', () => {
    const scores = bm25.score(terms('embassy flights'));
    const best = scores.indexOf(Math.max(...scores));
    expect(best).toBe(2);
    for (const [doc, score] of scores.entries()) if (doc !== 2) expect(score).toBeLessThan(scores[2]!);
  });

  it('gives zero to documents without any query term, and to unknown terms', () => {
    const scores = bm25.score(terms('flights'));
    expect(Array.from(scores).map((s) => s > 0)).toEqual([false, false, true, false, false]);
    expect(Array.from(bm25.score(terms('zeppelin')))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(bm25.score([]))).toEqual([0, 0, 0, 0, 0]);
    expect(bm25.size).toBe(5);
  });

  it('weights a term less the more documents contain it', () => {
    const [embassy] = terms('embassy'); // in 4 documents
    const [staffing] = terms('staffing'); // in 3
    const [istanbul] = terms('istanbul'); // in 1
    const [absent] = terms('zeppelin'); // in 0
    expect(bm25.idf(staffing!)).toBeLessThan(bm25.idf(istanbul!));
    expect(bm25.idf(embassy!)).toBeLessThan(bm25.idf(staffing!));
    expect(bm25.idf(istanbul!)).toBeLessThan(bm25.idf(absent!));
    expect(bm25.idf(embassy!)).toBeGreaterThan(0);
  });

  it('scores more occurrences higher, with diminishing returns', () => {
    const docs = buildBm25(['alpha beta gamma delta', 'alpha alpha beta gamma', 'alpha alpha alpha alpha', 'omega']);
    const scores = docs.score(terms('alpha'));
    expect(scores[1]!).toBeGreaterThan(scores[0]!);
    expect(scores[2]!).toBeGreaterThan(scores[1]!);
    // Same length, so only tf differs: doubling it less than doubles the score.
    expect(scores[1]!).toBeLessThan(2 * scores[0]!);
    expect(scores[2]!).toBeLessThan(2 * scores[1]!);
    expect(scores[3]).toBe(0);
  });

  it('counts a repeated query term once', () => {
    expect(Array.from(bm25.score(terms('flights flights flights')))).toEqual(Array.from(bm25.score(terms('flights'))));
  });

  it('works on an empty collection', () => {
    const empty = buildBm25([]);
    expect(empty.size).toBe(0);
    expect(empty.score(['x']).length).toBe(0);
  });
});

describe('terms: possessives and demonyms', () => {
  it('reads "Russia’s" as the word Russia, never a stray "s"', () => {
    expect(terms("Russia's ambassador")).toEqual(terms('Russia ambassador'));
    expect(terms('Russia’s ambassador')).toEqual(terms('Russia ambassador'));
  });

  it('matches a place with its people', () => {
    expect(terms('Russian')).toEqual(terms('Russia'));
    expect(terms('Americans')).toEqual(terms('America'));
    expect(terms('Korean')).toEqual(terms('Korea'));
  });

  it('leaves short words ending in -an alone', () => {
    expect(terms('plan')).not.toEqual(terms('pla'));
    expect(terms('plan')).toEqual(['plan']);
  });
});

describe('unfamiliarWords', () => {
  const common = new Set(['recipe', 'bread', 'talks', 'russia']);
  const isCommonWord = (word: string) => common.has(word.toLowerCase());

  it('names the words that no source holds and that are rare in English, once each', () => {
    const frequency = new Map([
      ['recip', 0],
      ['sourdough', 0],
      ['bread', 0],
    ]);
    expect(unfamiliarWords("What's a good recipe for Sourdough bread, sourdough?", frequency, isCommonWord)).toEqual(['sourdough']);
  });

  it('names none when the sources hold the rare word, or the missing word is common', () => {
    const frequency = new Map([
      ['zakharova', 3],
      ['talk', 0],
    ]);
    expect(unfamiliarWords('What did Zakharova say about the talks?', frequency, isCommonWord)).toEqual([]);
  });
});
