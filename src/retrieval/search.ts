import type { SentenceRecord } from '../index/store.ts';
import { askedKinds, hasAskedEntity, type EntityKind } from './answerTypes.ts';
import { dotAll, topK } from './rank.ts';
import type { SearchIndex } from './searchIndex.ts';
import { terms } from './terms.ts';

/**
 * The evidence each sentence is ranked on. Cosines are used as they are; keyword evidence is the
 * share of the question's keyword weight (IDF) a sentence holds, so every feature means the same
 * on a two-article corpus as on a thousand-article one.
 */
export const FEATURES = [
  /** Cosine of the question to the sentence alone. */
  'sentence',
  /** Cosine to `title. sentence`: the sentence read in its article's context. */
  'context',
  /** Best cosine to a chunk (with title) holding the sentence: the paragraph around it. */
  'chunk',
  /** Share of the question's keyword weight found in the sentence or its article's title. */
  'keywords',
  /** Share found in the sentence but not in the title: the words that ask, not the topic. */
  'keywordsBeyondTitle',
  /** 1 when the question asks for a kind of entity (who, when, how many, where) the sentence names. */
  'answerType',
] as const;

export type FeatureName = (typeof FEATURES)[number];
export type Features = Readonly<Record<FeatureName, number>>;
/** A linear ranker: a sentence's score is the weighted sum of its features. */
export type RankingWeights = Readonly<Record<FeatureName, number>>;

export interface RankedSentence {
  readonly sentence: SentenceRecord;
  /** Position of the sentence in `SearchIndex.sentences`. */
  readonly position: number;
  /** Fitted score; higher is better. */
  readonly score: number;
  readonly features: Features;
}

export interface SearchResult {
  readonly queryTerms: string[];
  readonly asked: EntityKind[];
  /** The best-ranked sentences, best first. */
  readonly ranked: RankedSentence[];
}

export interface SearchOptions {
  /** Sentences (by position) to leave out, as if they were not indexed; the fitting script masks answers with it. */
  readonly exclude?: (position: number) => boolean;
}

/** Sentences scored in full: the best by dense similarity alone. Past this depth answers are very rare. */
const FIRST_STAGE = 100;
/** Sentences offered to the answer stage. */
const CANDIDATES = 50;

export function score(features: Features, weights: RankingWeights): number {
  let sum = 0;
  for (const name of FEATURES) sum += weights[name] * features[name];
  return sum;
}

export interface Candidates {
  readonly queryTerms: string[];
  readonly asked: EntityKind[];
  /** The first-stage sentences with their features, unordered. */
  readonly candidates: { readonly position: number; readonly features: Features }[];
}

/** The sentences worth scoring for a question (the best by dense similarity), with every feature. */
export function candidatesFor(index: SearchIndex, question: string, queryVector: readonly number[], options: SearchOptions = {}): Candidates {
  const queryTerms = terms(question);
  const asked = askedKinds(question);
  const sentenceDense = dotAll(index.sentenceVectors, index.dimensions, queryVector);
  const contextDense = dotAll(index.contextVectors, index.dimensions, queryVector);
  const chunkDense = dotAll(index.chunkVectors, index.dimensions, queryVector);
  const bestChunk = (position: number) => index.chunksOfSentence[position]!.reduce((best, c) => Math.max(best, chunkDense[c]!), -1);
  const dense = sentenceDense.map((value, position) => value + contextDense[position]!);
  const keep = options.exclude ? (position: number) => !options.exclude!(position) : undefined;

  const unique = [...new Set(queryTerms)];
  const idf = unique.map((term) => index.sentenceKeywords.idf(term));
  const totalIdf = idf.reduce((sum, weight) => sum + weight, 0);
  const share = (has: (term: string) => boolean) => (totalIdf === 0 ? 0 : unique.reduce((sum, term, i) => sum + (has(term) ? idf[i]! : 0), 0) / totalIdf);

  const candidates = topK(dense, FIRST_STAGE, keep).map((position) => {
    const sentence = index.sentences[position]!;
    const own = index.sentenceTerms[position]!;
    const title = index.titleTerms[position]!;
    const features: Features = {
      sentence: sentenceDense[position]!,
      context: contextDense[position]!,
      chunk: bestChunk(position),
      keywords: share((term) => own.has(term) || title.has(term)),
      keywordsBeyondTitle: share((term) => own.has(term) && !title.has(term)),
      answerType: hasAskedEntity(sentence.entities, asked, question) ? 1 : 0,
    };
    return { position, features };
  });
  return { queryTerms, asked, candidates };
}

/**
 * Ranks sentences for a question: dense similarity picks the first-stage candidates, then each is
 * scored by the fitted weights over all its features.
 */
export function search(index: SearchIndex, question: string, queryVector: readonly number[], weights: RankingWeights, options: SearchOptions = {}): SearchResult {
  const { queryTerms, asked, candidates } = candidatesFor(index, question, queryVector, options);
  const ranked = candidates.map(({ position, features }): RankedSentence => ({ sentence: index.sentences[position]!, position, score: score(features, weights), features }));
  ranked.sort((a, b) => b.score - a.score);
  return { queryTerms, asked, ranked: ranked.slice(0, CANDIDATES) };
}
