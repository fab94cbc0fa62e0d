import type { IndexReader, SentenceFilter, SentenceRecord } from '../index/store.ts';
import { askedKinds, hasAskedEntity, type EntityKind } from './answerTypes.ts';
import { terms, wordSpans } from './terms.ts';
import { pieceBests, pieceMatches, type VectorMatrix } from '../index/vectorMath.ts';

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

/**
 * The evidence the best first-pass sentences are re-ranked on: the first pass's, and the
 * question's word pieces matched against the sentence's (`WordPieceFeatures`), which tell apart
 * neighbouring sentences of one passage that one vector each cannot. They cost a sentence's
 * word-piece vectors and a matrix product per sentence, so only the RERANKED best of the first
 * pass are re-ranked. `weakestToken` joined `tokens` when it lifted held-out hit@1 on the tuning
 * articles from 78.2% / 71.2% (crowd / natural, at the natural share chosen without it) to
 * 80.8% / 70.5% (`npm run fit`).
 */
export const RERANK_FEATURES = [...FEATURES, 'tokens', 'weakestToken'] as const;
export type RerankFeatureName = (typeof RERANK_FEATURES)[number];
export type RerankingWeights = Readonly<Record<RerankFeatureName, number>>;

/**
 * What a re-ranked sentence's word pieces say (`pieceMatches`): `tokens`, the mean of each question
 * piece's best cosine to the sentence's, and `weakestToken`, the least of them (the part of the
 * question the sentence answers to least).
 */
export interface WordPieceFeatures {
  readonly tokens: number;
  readonly weakestToken: number;
}

/** Both fitted rankers: the first pass over every candidate, and the re-ranking of its best. */
export interface Rankers {
  readonly ranking: RankingWeights;
  readonly reranking: RerankingWeights;
}

/** A question as the model reads it: one vector, and its word pieces' (for re-ranking). */
export interface QueryEmbedding {
  readonly vector: ArrayLike<number>;
  readonly tokens?: VectorMatrix;
}

export interface RankedSentence {
  readonly sentence: SentenceRecord;
  /** Fitted score; higher is better. */
  readonly score: number;
  readonly features: Features & Partial<WordPieceFeatures>;
}

export interface SearchResult {
  readonly queryTerms: string[];
  readonly asked: EntityKind[];
  /** Question words found neither in the sources nor whole in the model's vocabulary (see `unfamiliarWords`). */
  readonly unfamiliar: string[];
  /** The best-ranked sentences, best first: re-ranked when the index holds word-piece vectors. */
  readonly ranked: RankedSentence[];
  /**
   * The first pass's best, best first: what the answer/decline decision reads, so that its scores
   * mean the same whether or not the index could re-rank.
   */
  readonly firstPass: RankedSentence[];
  /**
   * How the question's word pieces meet the passage quoted first: the re-ranked sentences of the
   * first quote's article, taken together (each piece's best cosine to any of their pieces). The
   * decision reads it too; undefined when the question was not re-ranked. Read over the passage
   * rather than the one sentence because people name the topic ("in Istanbul") and a sentence
   * about it rarely repeats it.
   */
  readonly passage?: WordPieceFeatures;
}

export interface SearchOptions {
  /** Sentences to leave out, as if they were not indexed; the fitting script masks answers with it. */
  readonly exclude?: SentenceFilter;
  /**
   * Whether the model's vocabulary holds a word whole (a common word) rather than in pieces;
   * without it, no word counts as unfamiliar.
   */
  readonly isCommonWord?: (word: string) => boolean;
}

/** Sentences scored in full: the best by dense similarity alone. Past this depth answers are very rare. */
const FIRST_STAGE = 100;
/** First-pass sentences the decision reads. */
const CANDIDATES = 50;
/**
 * First-pass sentences re-ranked, and so offered to the answer stage. On the tuning questions the
 * best 10 of the first pass hold an answer for 95.3% of them (97.6% for all 100), and re-ranking
 * 10 ranked as well held out as re-ranking 20 (in a numpy re-fit at one natural share, hit@1
 * 79.2% / 75.0% on crowd / natural questions, against 78.8% / 75.0%), at half the cost of reading
 * and matching word pieces.
 */
export const RERANKED = 10;

/** The weighted sum of the `names` features: a linear ranker's score. */
function weightedSum<N extends string>(names: readonly N[], features: Readonly<Record<N, number>>, weights: Readonly<Record<N, number>>): number {
  let sum = 0;
  for (const name of names) sum += weights[name] * features[name];
  return sum;
}

export function score(features: Features, weights: RankingWeights): number {
  return weightedSum(FEATURES, features, weights);
}

/** A first-pass sentence ready to be re-ranked: its features with the word-piece evidence, and each question piece's best cosine to it. */
export interface PoolEntry {
  readonly sentence: SentenceRecord;
  readonly features: Features & WordPieceFeatures;
  readonly pieceBests: Float64Array;
}

/** The best `RERANKED` of ranked first-pass sentences, each with its word-piece evidence, or undefined when the index keeps no word-piece vectors. */
export async function rerankPool(
  index: IndexReader,
  firstPass: readonly RankedSentence[],
  queryTokens: VectorMatrix | undefined,
): Promise<PoolEntry[] | undefined> {
  if (queryTokens === undefined) return undefined;
  const best = firstPass.slice(0, RERANKED);
  const tokens = await index.tokenVectors(best.map((entry) => entry.sentence));
  if (tokens.some((entry) => entry === undefined)) return undefined;
  return best.map(({ sentence, features }, i) => {
    const bests = pieceBests(queryTokens, tokens[i]!);
    return { sentence, features: { ...features, ...wordPieceFeatures(bests) }, pieceBests: bests };
  });
}

function wordPieceFeatures(bests: ArrayLike<number>): WordPieceFeatures {
  const { mean, weakest } = pieceMatches(bests);
  return { tokens: mean, weakestToken: weakest };
}

/** `SearchResult.passage`: each question piece's best cosine over the pool's sentences from `sourceId`. */
function passageMatch(pool: readonly PoolEntry[], sourceId: string): WordPieceFeatures {
  const own = pool.filter((entry) => entry.sentence.sourceId === sourceId);
  return wordPieceFeatures(Float64Array.from(own[0]?.pieceBests ?? [], (_, i) => Math.max(...own.map((entry) => entry.pieceBests[i]!))));
}

export interface Candidates {
  readonly queryTerms: string[];
  readonly asked: EntityKind[];
  readonly unfamiliar: string[];
  /** The first-stage sentences with their features, best by dense similarity first. */
  readonly candidates: { readonly sentence: SentenceRecord; readonly features: Features }[];
}

/** Okapi BM25's inverse document frequency: the weight a match on a term carries. */
export function idf(sentences: number, frequency: number): number {
  return Math.log(1 + (sentences - frequency + 0.5) / (frequency + 0.5));
}

/**
 * Question words that no sentence of the sources holds and that are rare in English (the model's
 * vocabulary holds them only in pieces): "sourdough", "Kubernetes", "SARS". A common word missing
 * from a small corpus ("job", "later") says little; a rare one usually names what the question is
 * about, and here nothing is about it. A misspelling looks the same, so this is evidence for the
 * decision, not a verdict.
 */
export function unfamiliarWords(question: string, termFrequency: ReadonlyMap<string, number>, isCommonWord: (word: string) => boolean): string[] {
  const found = new Set<string>();
  for (const span of wordSpans(question)) {
    if (span.term === undefined || termFrequency.get(span.term) !== 0) continue;
    const word = question.slice(span.start, span.end);
    if (!isCommonWord(word)) found.add(word.toLowerCase());
  }
  return [...found];
}

/** The sentences worth scoring for a question (the best by dense similarity), with every feature. */
export async function candidatesFor(index: IndexReader, question: string, queryVector: ArrayLike<number>, options: SearchOptions = {}): Promise<Candidates> {
  const queryTerms = terms(question);
  const asked = askedKinds(question);
  const unique = [...new Set(queryTerms)];
  const [hits, stats] = await Promise.all([index.nearest(Float32Array.from(queryVector), FIRST_STAGE, options.exclude), index.keywordStats(unique)]);
  const weights = stats.frequencies.map((frequency) => idf(stats.sentences, frequency));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const unfamiliar = options.isCommonWord
    ? unfamiliarWords(question, new Map(unique.map((term, i) => [term, stats.frequencies[i]!])), options.isCommonWord)
    : [];
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
  return { queryTerms, asked, unfamiliar, candidates };
}

const byScore = (a: RankedSentence, b: RankedSentence) => b.score - a.score;

/** The first pass: every candidate scored by the first ranker's weights, best first. */
export function rankFirstPass(candidates: Candidates['candidates'], weights: RankingWeights): RankedSentence[] {
  return candidates.map(({ sentence, features }): RankedSentence => ({ sentence, score: score(features, weights), features })).sort(byScore);
}

/**
 * Ranks sentences for a question: dense similarity picks the first-stage candidates, each is
 * scored by the first pass's fitted weights, and the best of those are re-ranked with the
 * question's word pieces (when the index keeps the sentences').
 */
export async function search(
  index: IndexReader,
  question: string,
  query: QueryEmbedding,
  rankers: Rankers,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const { queryTerms, asked, unfamiliar, candidates } = await candidatesFor(index, question, query.vector, options);
  const firstPass = rankFirstPass(candidates, rankers.ranking);
  const pool = await rerankPool(index, firstPass, query.tokens);
  const ranked = pool
    ? pool
        .map(({ sentence, features }): RankedSentence => ({ sentence, score: weightedSum(RERANK_FEATURES, features, rankers.reranking), features }))
        .sort(byScore)
    : firstPass;
  return {
    queryTerms,
    asked,
    unfamiliar,
    ranked: ranked.slice(0, pool ? RERANKED : CANDIDATES),
    firstPass: firstPass.slice(0, CANDIDATES),
    ...(pool && ranked[0] ? { passage: passageMatch(pool, ranked[0].sentence.sourceId) } : {}),
  };
}
