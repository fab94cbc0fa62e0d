import type { SentenceRecord } from '../index/store.ts';
import { dotAll, ranks } from './rank.ts';
import type { SearchIndex } from './searchIndex.ts';
import { terms } from './terms.ts';

/** How much each kind of evidence counts in the fused ranking (reciprocal-rank fusion). */
export interface FusionWeights {
  readonly sentenceDense: number;
  readonly sentenceKeyword: number;
  readonly chunkDense: number;
  readonly chunkKeyword: number;
  /** RRF's damping constant: larger flattens the difference between neighbouring ranks. */
  readonly k: number;
}

export const DEFAULT_WEIGHTS: FusionWeights = { sentenceDense: 1, sentenceKeyword: 1, chunkDense: 0.5, chunkKeyword: 0.5, k: 60 };

export interface RankedSentence {
  readonly sentence: SentenceRecord;
  /** Fused score; only its order matters. */
  readonly score: number;
  /** Cosine similarity of the sentence to the question. */
  readonly dense: number;
  /** Best cosine similarity of a chunk containing the sentence. */
  readonly chunkDense: number;
  /** Share of the question's keyword weight (IDF) found in the sentence's best chunk. */
  readonly coverage: number;
}

export interface SearchResult {
  readonly queryTerms: string[];
  /** The best-ranked sentences, best first. */
  readonly ranked: RankedSentence[];
}

function keywordCoverage(queryTerms: readonly string[], text: string, idf: (term: string) => number): number {
  const unique = [...new Set(queryTerms)];
  const total = unique.reduce((sum, term) => sum + idf(term), 0);
  if (total === 0) return 0;
  const present = new Set(terms(text));
  return unique.reduce((sum, term) => sum + (present.has(term) ? idf(term) : 0), 0) / total;
}

/** Sentences ranked in full and offered to the answer stage. */
const CANDIDATES = 50;

const rrf = (rank: number, k: number) => (Number.isFinite(rank) ? 1 / (k + rank) : 0);

/**
 * Ranks every sentence by fusing four rankings: the sentence's own similarity to the question
 * (dense and keyword) and that of its best containing chunk, which brings in the context a
 * short sentence lacks (a pronoun's referent, the topic of its paragraph).
 */
export function search(
  index: SearchIndex,
  question: string,
  queryVector: readonly number[],
  weights: FusionWeights = DEFAULT_WEIGHTS,
): SearchResult {
  const queryTerms = terms(question);
  const sentenceDense = dotAll(index.sentenceVectors, index.dimensions, queryVector);
  const chunkDense = dotAll(index.chunkVectors, index.dimensions, queryVector);
  const sentenceDenseRank = ranks(sentenceDense);
  const sentenceKeywordRank = ranks(index.sentenceKeywords.score(queryTerms), 0);
  const chunkDenseRank = ranks(chunkDense);
  const chunkKeywordRank = ranks(index.chunkKeywords.score(queryTerms), 0);

  const scored = index.sentences.map((_, i) => {
    let bestChunk: number | undefined;
    let bestChunkScore = 0;
    for (const c of index.chunksOfSentence[i]!) {
      const chunkScore = weights.chunkDense * rrf(chunkDenseRank[c]!, weights.k) + weights.chunkKeyword * rrf(chunkKeywordRank[c]!, weights.k);
      if (bestChunk === undefined || chunkScore > bestChunkScore) {
        bestChunkScore = chunkScore;
        bestChunk = c;
      }
    }
    const score =
      weights.sentenceDense * rrf(sentenceDenseRank[i]!, weights.k) +
      weights.sentenceKeyword * rrf(sentenceKeywordRank[i]!, weights.k) +
      bestChunkScore;
    return { i, score, bestChunk };
  });
  scored.sort((a, b) => b.score - a.score);
  // Keyword coverage is costlier than the rest, so it is measured only where a quote can come from.
  const ranked = scored.slice(0, CANDIDATES).map(({ i, score, bestChunk }): RankedSentence => {
    const sentence = index.sentences[i]!;
    const context = index.chunksOfSentence[i]!.map((c) => index.chunks[c]!.text).join(' ') || sentence.text;
    return {
      sentence,
      score,
      dense: sentenceDense[i]!,
      chunkDense: bestChunk === undefined ? sentenceDense[i]! : chunkDense[bestChunk]!,
      coverage: keywordCoverage(queryTerms, context, index.chunkKeywords.idf),
    };
  });
  return { queryTerms, ranked };
}
