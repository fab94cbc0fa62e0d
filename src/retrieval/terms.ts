import { eng } from 'stopword';
import { stemmer } from 'stemmer';

/** Question words and auxiliaries carry no topic, so they must not count as keyword evidence. */
const STOPWORDS = new Set([
  ...eng,
  'whom',
  'whose',
  'when',
  'why',
  'does',
  'do',
  'doing',
  'done',
  'was',
  'were',
  'has',
  'have',
  'had',
  'is',
  'are',
  'be',
  'the',
  'a',
  'an',
  'of',
  'to',
  'in',
  'on',
  'it',
  'its',
  'or',
  'than',
  'then',
  'there',
  'their',
  'they',
  'them',
  'this',
  'these',
  'those',
  'what',
  'which',
  'who',
  'where',
  'how',
  'kind',
  'type',
  'called',
  'named',
]);

function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/**
 * A word, with an apostrophe suffix ("Russia's", "weren't") kept inside it so that the suffix
 * never becomes a word of its own. Retrieval and quoting both tokenise with this one pattern.
 */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/**
 * A place and its people share a stem the Porter stemmer leaves apart (Russia/Russian,
 * America/American, Korea/Korean): a final "an" loses its "n". Applied to questions and sources
 * alike, so a rare collision ("woman" → "woma") costs nothing.
 */
function foldDemonym(stem: string): string {
  return /^[a-z]{3,}an$/.test(stem) ? stem.slice(0, -1) : stem;
}

/** The keyword term of one word, or undefined for a stopword. */
function termOf(word: string): string | undefined {
  const bare = fold(word).replace(/['’].*$/, '');
  if (bare.length === 0 || STOPWORDS.has(bare)) return undefined;
  return foldDemonym(stemmer(bare));
}

/** Content-word stems of a text, in order, for keyword matching. */
export function terms(text: string): string[] {
  const result: string[] = [];
  for (const match of text.matchAll(WORD)) {
    const term = termOf(match[0]);
    if (term !== undefined) result.push(term);
  }
  return result;
}

/** A word of `text` with its character span, for finding where query terms occur. */
export interface WordSpan {
  readonly start: number;
  readonly end: number;
  /** Stem of the word, or undefined for stopwords. */
  readonly term: string | undefined;
}

export function wordSpans(text: string): WordSpan[] {
  return [...text.matchAll(WORD)].map((match) => ({ start: match.index, end: match.index + match[0].length, term: termOf(match[0]) }));
}
