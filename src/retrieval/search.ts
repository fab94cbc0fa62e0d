import type { IndexReader, SentenceFilter, SentenceRecord } from '../index/store.ts';
import { askedKinds, hasAskedEntity, type EntityKind } from './answerTypes.ts';
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
  /** Sentences to leave out, as if they were not indexed; the fitting script masks answers with it. */
  readonly exclude?: SentenceFilter;
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
  /** The first-stage sentences with their features, best by dense similarity first. */
  readonly candidates: { readonly sentence: SentenceRecord; readonly features: Features }[];
}

/** Okapi BM25's inverse document frequency: the weight a match on a term carries. */
export function idf(sentences: number, frequency: number): number {
  return Math.log(1 + (sentences - frequency + 0.5) / (frequency + 0.5));
}

/** The sentences worth scoring for a question (the best by dense similarity), with every feature. */
export async function candidatesFor(index: IndexReader, question: string, queryVector: ArrayLike<number>, options: SearchOptions = {}): Promise<Candidates> {
  const queryTerms = terms(question);
  const asked = askedKinds(question);
  const unique = [...new Set(queryTerms)];
  const [hits, stats] = await Promise.all([index.nearest(Float32Array.from(queryVector), FIRST_STAGE, options.exclude), index.keywordStats(unique)]);
  const weights = stats.frequencies.map((frequency) => idf(stats.sentences, frequency));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const share = (has: (term: string) => boolean) =>
    totalWeight === 0 ? 0 : unique.reduce((sum, term, i) => sum + (has(term) ? weights[i]! : 0), 0) / totalWeight;
  const titleTerms = new Map<string, Set<string>>();
  const titleTermsOf = (sourceId: string) => {
    let found = titleTerms.get(sourceId);
    if (found === undefined) titleTerms.set(sourceId, (found = new Set(terms(index.sources.get(sourceId)?.title ?? ''))));
    return found;
  };

  const candidates = hits.map(({ sentence, cosine, contextCosine, chunkCosine }) => {
    const own = new Set(terms(sentence.text));
    const title = titleTermsOf(sentence.sourceId);
    const features: Features = {
      sentence: cosine,
      context: contextCosine,
      chunk: chunkCosine,
      keywords: share((term) => own.has(term) || title.has(term)),
      keywordsBeyondTitle: share((term) => own.has(term) && !title.has(term)),
      answerType: hasAskedEntity(sentence.entities, asked, question) ? 1 : 0,
    };
    return { sentence, features };
  });
  return { queryTerms, asked, candidates };
}

/**
 * Ranks sentences for a question: dense similarity picks the first-stage candidates, then each is
 * scored by the fitted weights over all its features.
 */
export async function search(
  index: IndexReader,
  question: string,
  queryVector: ArrayLike<number>,
  weights: RankingWeights,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const { queryTerms, asked, candidates } = await candidatesFor(index, question, queryVector, options);
  const ranked = candidates.map(({ sentence, features }): RankedSentence => ({ sentence, score: score(features, weights), features }));
  ranked.sort((a, b) => b.score - a.score);
  return { queryTerms, asked, ranked: ranked.slice(0, CANDIDATES) };
}
