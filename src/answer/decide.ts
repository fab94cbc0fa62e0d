import type { SearchResult } from '../retrieval/search.ts';

/**
 * Whether to answer, and how sure to be. Two fitted logistic models read the evidence of one
 * question's ranking and of how its word pieces meet the passage quoted first: "related" (is
 * anything in the sources about this?) and "answers" (does the best sentence answer it, rather
 * than merely share its topic?). Below the related threshold
 * Docent declines; above it, it answers with high confidence when the answers model clears its
 * threshold, and otherwise shows the closest passages, flagged as possibly not a direct answer.
 * A question holding a word that is rare in English and occurs nowhere in the sources must clear a
 * higher related threshold: such a word usually names what the question is about.
 * Both are fitted by `npm run fit` (src/eval/fit.ts) on tuning data only.
 */
export const EVIDENCE = [
  /** Fitted ranking score of the best sentence. */
  'topScore',
  /** How far the best sentence stands above the second. */
  'margin',
  /** Share of the question's keyword weight in the best sentence or its title. */
  'keywords',
  /** 1 when the question asks for a kind of entity (who, when, how many, where). */
  'askedType',
  /** 1 when it does and the best sentence names one. */
  'answerType',
  /** Best cosine of the question to any candidate sentence, alone or in context. */
  'similarity',
  /** Cosine to the paragraph around the best sentence. */
  'chunk',
  /** 1 when the question holds a word rare in English that no source holds (`unfamiliarWords`). */
  'unfamiliar',
  /** Mean of the question pieces' best cosines to the pieces of the passage quoted first (`SearchResult.passage`). */
  'tokens',
  /**
   * The least of them: a question whose every part is met somewhere in the passage is more likely
   * answered by it than one with a part met nowhere ("how tall is the net" against sentences on
   * the net's history).
   */
  'weakestToken',
] as const;

export type EvidenceName = (typeof EVIDENCE)[number];
/** Evidence an index without word-piece vectors (a generation whose files went) cannot give. */
export const WORD_PIECE_EVIDENCE = ['tokens', 'weakestToken'] as const satisfies readonly EvidenceName[];
type WordPieceEvidence = (typeof WORD_PIECE_EVIDENCE)[number];
export type Evidence = Readonly<Record<Exclude<EvidenceName, WordPieceEvidence>, number> & Partial<Record<WordPieceEvidence, number>>>;

export interface LogisticModel {
  readonly features: readonly EvidenceName[];
  /** Standardisation: each feature is read as (value − mean) / scale. */
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  readonly weights: readonly number[];
  readonly bias: number;
  /** Probability at or above which the model says yes. */
  readonly threshold: number;
}

/** The two models, and the related model's stricter line for a question with an unfamiliar word. */
export interface DecisionSet {
  readonly related: LogisticModel;
  readonly answers: LogisticModel;
  /** The related model's threshold for a question with an unfamiliar word (at least `related.threshold`). */
  readonly relatedIfUnfamiliar: number;
}

export interface DecisionModels extends DecisionSet {
  /**
   * The same, fitted without the word-piece evidence: for a question that could not be re-ranked
   * (an index without word-piece vectors), so that its decision is one fitted for the evidence it
   * has rather than one reading the missing evidence at a guess.
   */
  readonly withoutWordPieces: DecisionSet;
}

export type Confidence = 'high' | 'low';
export type Decision = { readonly kind: 'answer'; readonly confidence: Confidence } | { readonly kind: 'decline' };

/** The decision's evidence, read off the first pass (see `SearchResult.firstPass`) and the word pieces of the passage quoted first. */
export function evidenceOf(result: SearchResult): Evidence | undefined {
  const [best, second] = result.firstPass;
  if (best === undefined) return undefined;
  return {
    topScore: best.score,
    margin: second === undefined ? 0 : best.score - second.score,
    keywords: best.features.keywords,
    askedType: result.asked.length > 0 ? 1 : 0,
    answerType: best.features.answerType,
    similarity: result.firstPass.reduce((max, entry) => Math.max(max, entry.features.sentence, entry.features.context), -1),
    chunk: best.features.chunk,
    unfamiliar: result.unfamiliar.length > 0 ? 1 : 0,
    ...result.passage,
  };
}

/**
 * A missing piece of evidence is read at the model's mean for it, so that it tips the decision
 * neither way (`decide` hands evidence without word pieces to models fitted without them).
 */
export function probability(model: LogisticModel, evidence: Evidence): number {
  let z = model.bias;
  model.features.forEach((name, i) => {
    const value = evidence[name];
    if (value !== undefined) z += (model.weights[i]! * (value - model.mean[i]!)) / model.scale[i]!;
  });
  return 1 / (1 + Math.exp(-z));
}

const hasWordPieces = (evidence: Evidence) => WORD_PIECE_EVIDENCE.every((name) => evidence[name] !== undefined);

/** What the decision weighs: each model's probability and the line it must reach. */
export interface DecisionScores {
  readonly related: number;
  readonly relatedLine: number;
  readonly answers: number;
  readonly answersLine: number;
}

export function decisionScores(evidence: Evidence, fitted: DecisionModels): DecisionScores {
  const models: DecisionSet = hasWordPieces(evidence) ? fitted : fitted.withoutWordPieces;
  return {
    related: probability(models.related, evidence),
    relatedLine: evidence.unfamiliar === 1 ? Math.max(models.related.threshold, models.relatedIfUnfamiliar) : models.related.threshold,
    answers: probability(models.answers, evidence),
    answersLine: models.answers.threshold,
  };
}

export function decide(evidence: Evidence | undefined, fitted: DecisionModels): Decision {
  if (evidence === undefined) return { kind: 'decline' };
  const scores = decisionScores(evidence, fitted);
  if (scores.related < scores.relatedLine) return { kind: 'decline' };
  return { kind: 'answer', confidence: scores.answers >= scores.answersLine ? 'high' : 'low' };
}
