import { idf as inverseFrequency } from '../retrieval/search.ts';
import { terms } from '../retrieval/terms.ts';

/** Okapi BM25 over a fixed set of texts, with the usual constants: the keyword baseline of the eval. */
export interface Bm25Index {
  /** Score of every document for the query, in document order (0 where no term matches). */
  score(queryTerms: readonly string[]): Float64Array;
  /** Inverse document frequency of a term (the weight a match on it carries). */
  idf(term: string): number;
  readonly size: number;
}

const K1 = 1.2;
const B = 0.75;

export function buildBm25(texts: readonly string[]): Bm25Index {
  const postings = new Map<string, { doc: number; tf: number }[]>();
  const lengths = new Float64Array(texts.length);
  texts.forEach((text, doc) => {
    const counts = new Map<string, number>();
    const docTerms = terms(text);
    lengths[doc] = docTerms.length;
    for (const term of docTerms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, tf] of counts) {
      const list = postings.get(term) ?? [];
      list.push({ doc, tf });
      postings.set(term, list);
    }
  });
  const averageLength = lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, texts.length);
  const idf = (term: string): number => inverseFrequency(texts.length, postings.get(term)?.length ?? 0);
  return {
    size: texts.length,
    idf,
    score(queryTerms) {
      const scores = new Float64Array(texts.length);
      for (const term of new Set(queryTerms)) {
        const weight = idf(term);
        for (const { doc, tf } of postings.get(term) ?? []) {
          const norm = K1 * (1 - B + (B * lengths[doc]!) / (averageLength || 1));
          scores[doc]! += (weight * tf * (K1 + 1)) / (tf + norm);
        }
      }
      return scores;
    },
  };
}
