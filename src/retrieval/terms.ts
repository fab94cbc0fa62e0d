import { eng } from 'stopword';
import { stemmer } from 'stemmer';

/** Question words and auxiliaries carry no topic, so they must not count as keyword evidence. */
const STOPWORDS = new Set([...eng, 'whom', 'whose', 'when', 'why', 'does', 'do', 'doing', 'done', 'was', 'were', 'has', 'have', 'had', 'is', 'are', 'be', 'the', 'a', 'an', 'of', 'to', 'in', 'on', 'it', 'its', 'or', 'than', 'then', 'there', 'their', 'they', 'them', 'this', 'these', 'those', 'what', 'which', 'who', 'where', 'how', 'kind', 'type', 'called', 'named']);

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** Content-word stems of a text, in order, for keyword matching. */
export function terms(text: string): string[] {
  const words = fold(text).split(/[^\p{L}\p{N}]+/u);
  return words.filter((word) => word.length > 0 && !STOPWORDS.has(word)).map((word) => stemmer(word));
}

/** A word of `text` with its character span, for finding where query terms occur. */
export interface WordSpan {
  readonly start: number;
  readonly end: number;
  /** Stem of the word, or undefined for stopwords. */
  readonly term: string | undefined;
}

export function wordSpans(text: string): WordSpan[] {
  const spans: WordSpan[] = [];
  for (const match of text.matchAll(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu)) {
    const word = fold(match[0]).replace(/['’].*$/, '');
    spans.push({ start: match.index, end: match.index + match[0].length, term: STOPWORDS.has(word) ? undefined : stemmer(word) });
  }
  return spans;
}
