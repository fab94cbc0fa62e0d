import { describe, expect, it } from 'vitest';
import { decide, decisionScores, evidenceOf, probability, WORD_PIECE_EVIDENCE, type DecisionModels, type LogisticModel } from '../../src/answer/decide.ts';
import { fittedModels } from '../../src/fitted/fitted.ts';
import type { Features, RankedSentence, SearchResult } from '../../src/retrieval/search.ts';

const features = (overrides: Partial<Features> = {}): Features => ({
  sentence: 0.5,
  context: 0.5,
  chunk: 0.4,
  keywords: 0.5,
  keywordsBeyondTitle: 0.3,
  answerType: 0,
  ...overrides,
});

const ranked = (score: number, n: number, overrides: Partial<Features> = {}): RankedSentence => ({
  sentence: { sourceId: 'a.md', sentence: n, start: 0, end: 1, line: 1, text: 'x', entities: '' },
  score,
  features: features(overrides),
});

const result = (entries: RankedSentence[], asked: SearchResult['asked'] = [], unfamiliar: string[] = []): SearchResult => ({
  queryTerms: ['x'],
  asked,
  unfamiliar,
  ranked: entries,
  firstPass: entries,
});

describe('evidenceOf', () => {
  it('is undefined when nothing was ranked, so the question is declined', () => {
    expect(evidenceOf(result([]))).toBeUndefined();
    expect(decide(undefined, fittedModels().decision)).toEqual({ kind: 'decline' });
  });

  it('reads the best sentence, its lead over the second, and the best similarity of any candidate', () => {
    const evidence = evidenceOf(result([ranked(3, 0, { keywords: 0.8, answerType: 1, chunk: 0.6 }), ranked(2.5, 1, { context: 0.9 })], ['P', 'O']))!;
    expect(evidence).toEqual({ topScore: 3, margin: 0.5, keywords: 0.8, askedType: 1, answerType: 1, similarity: 0.9, chunk: 0.6, unfamiliar: 0 });
    expect(evidenceOf(result([ranked(3, 0)]))!.margin).toBe(0);
    expect(evidenceOf(result([ranked(3, 0)], [], ['sourdough']))!.unfamiliar).toBe(1);
  });

  it('reads the first pass, not the re-ranking, so the decision means the same whether or not an index can re-rank', () => {
    const firstPass = [ranked(3, 0, { keywords: 0.8 }), ranked(1, 1)];
    const reranked = [ranked(9, 1, { keywords: 0.1 }), ranked(2, 0, { keywords: 0.8 })];
    const evidence = evidenceOf({ ...result(firstPass), ranked: reranked })!;
    expect(evidence).toMatchObject({ topScore: 3, margin: 2, keywords: 0.8 });
  });

  it('reads how the word pieces meet the passage quoted first, when the question was re-ranked', () => {
    const firstPass = [ranked(3, 0), ranked(1, 1)];
    expect(evidenceOf({ ...result(firstPass), passage: { tokens: 0.7, weakestToken: 0.2 } })).toMatchObject({ topScore: 3, tokens: 0.7, weakestToken: 0.2 });
    expect(evidenceOf(result(firstPass))).not.toHaveProperty('tokens');
  });
});

describe('probability and decide', () => {
  const model = (feature: LogisticModel['features'][number], threshold: number): LogisticModel => ({
    features: [feature],
    mean: [0.5],
    scale: [0.25],
    weights: [4],
    bias: 0,
    threshold,
  });
  const pair = { related: model('similarity', 0.5), answers: model('keywords', 0.5), relatedIfUnfamiliar: 0.9 };
  const models: DecisionModels = { ...pair, withoutWordPieces: pair };
  const evidence = (similarity: number, keywords: number, unfamiliar = 0) => ({
    topScore: 0,
    margin: 0,
    keywords,
    askedType: 0,
    answerType: 0,
    similarity,
    chunk: 0,
    unfamiliar,
  });

  it('standardises each feature before weighing it', () => {
    expect(probability(models.related, evidence(0.5, 0))).toBeCloseTo(0.5, 10);
    expect(probability(models.related, evidence(0.75, 0))).toBeCloseTo(1 / (1 + Math.exp(-4)), 10);
  });

  it('reads word-piece evidence an index could not give at the model’s mean, tipping the decision neither way', () => {
    const pieces: LogisticModel = { features: ['similarity', 'weakestToken'], mean: [0.5, 0.3], scale: [0.25, 0.1], weights: [4, 2], bias: 0, threshold: 0.5 };
    expect(probability(pieces, evidence(0.75, 0))).toBeCloseTo(1 / (1 + Math.exp(-4)), 10);
    expect(probability(pieces, { ...evidence(0.75, 0), weakestToken: 0.3 })).toBeCloseTo(1 / (1 + Math.exp(-4)), 10);
    expect(probability(pieces, { ...evidence(0.75, 0), weakestToken: 0.1 })).toBeCloseTo(1 / (1 + Math.exp(0)), 10);
  });

  it('declines unrelated questions, and flags related ones that the best sentence may not answer', () => {
    expect(decide(evidence(0.4, 1), models)).toEqual({ kind: 'decline' });
    expect(decide(evidence(0.6, 0.4), models)).toEqual({ kind: 'answer', confidence: 'low' });
    expect(decide(evidence(0.6, 0.6), models)).toEqual({ kind: 'answer', confidence: 'high' });
  });

  it('asks more of a question holding a word no source holds', () => {
    // P(related) at similarity 0.6 is about 0.83: above the usual line, below the one for unfamiliar words.
    expect(decide(evidence(0.6, 0.6, 1), models)).toEqual({ kind: 'decline' });
    expect(decide(evidence(0.9, 0.6, 1), models)).toEqual({ kind: 'answer', confidence: 'high' });
  });

  it('decides a question that could not be re-ranked with the models fitted without word pieces', () => {
    const fitted: DecisionModels = { ...pair, withoutWordPieces: { ...pair, answers: model('keywords', 0.99) } };
    const firstPassOnly = evidence(0.6, 0.6);
    expect(decide({ ...firstPassOnly, tokens: 0.7, weakestToken: 0.4 }, fitted)).toEqual({ kind: 'answer', confidence: 'high' });
    expect(decide(firstPassOnly, fitted)).toEqual({ kind: 'answer', confidence: 'low' });
    expect(decisionScores(firstPassOnly, fitted).answersLine).toBe(0.99);
    expect(decisionScores({ ...firstPassOnly, tokens: 0.7, weakestToken: 0.4 }, fitted).answersLine).toBe(0.5);
  });

  it('ships fitted models in which more similarity and more keyword evidence never lower confidence', () => {
    const { decision } = fittedModels();
    const at = (similarity: number, keywords: number) => ({
      topScore: 5,
      margin: 1,
      keywords,
      askedType: 0,
      answerType: 0,
      similarity,
      chunk: similarity,
      unfamiliar: 0,
    });
    expect(probability(decision.related, at(0.8, 0.5))).toBeGreaterThan(probability(decision.related, at(0.2, 0.5)));
    expect(decide(at(0.05, 0), decision)).toEqual({ kind: 'decline' });
    expect(decision.relatedIfUnfamiliar).toBeGreaterThanOrEqual(decision.related.threshold);
  });

  it('ships models for questions without word-piece evidence that read none', () => {
    const { withoutWordPieces } = fittedModels().decision;
    for (const model of [withoutWordPieces.related, withoutWordPieces.answers]) {
      expect(model.features.length).toBeGreaterThan(0);
      expect(model.features.filter((name) => (WORD_PIECE_EVIDENCE as readonly string[]).includes(name))).toEqual([]);
    }
    expect(withoutWordPieces.relatedIfUnfamiliar).toBeGreaterThanOrEqual(withoutWordPieces.related.threshold);
  });
});
