/**
 * Scores one evaluation set against one index: hit@1 and hit@3 of Docent's quotes and of the
 * BM25, dense and reciprocal-rank-fusion baselines (one sentence per quote), and how often each
 * decision (high, low, decline) was taken.
 */
import { quotesFor, type QuoteOptions } from '../answer/composeAnswer.ts';
import { decide, decisionScores, evidenceOf, type DecisionModels, type DecisionScores, type Evidence } from '../answer/decide.ts';
import { commonWordTest, embedQuestions, type Embedder } from '../embeddings/embedder.ts';
import type { IndexReader } from '../index/store.ts';
import type { MemoryIndex } from '../index/vectra/memoryIndex.ts';
import { topK } from '../index/vectorMath.ts';
import { search, type Rankers } from '../retrieval/search.ts';
import { terms } from '../retrieval/terms.ts';
import { buildBm25 } from './bm25.ts';
import { quotesHit, type EvalQuestion } from './datasets.ts';

export const METHODS = ['docent', 'bm25', 'dense', 'rrf'] as const;
export type Method = (typeof METHODS)[number];

export interface SetResult {
  readonly n: number;
  /** [hit@1, hit@3] counts per method, over the answerable questions. */
  readonly hits: Record<Method, [number, number]>;
  readonly answerable: number;
  readonly outcomes: { high: number; low: number; decline: number };
  /** Answerable questions declined or whose first quote misses, and unanswerable ones answered with high confidence. */
  readonly misses: string[];
  readonly rankingMs: number;
  /** Each question's outcome and what it was decided on, in the order asked (`npm run eval -- --dump`). */
  readonly records: QuestionRecord[];
}

export interface QuestionRecord {
  readonly id: string;
  readonly question: string;
  readonly answerable: boolean;
  readonly decision: 'high' | 'low' | 'decline';
  readonly evidence?: Evidence;
  readonly scores?: DecisionScores;
  /** For an answerable question: whether Docent's first quote, or one of its first three, answers it. */
  readonly hit1?: boolean;
  readonly hit3?: boolean;
  readonly firstQuote?: string;
}

/** Reciprocal-rank fusion of two rankings with the usual k = 60. */
function rrf(a: Float64Array, b: Float64Array): Float64Array {
  const fused = new Float64Array(a.length);
  for (const scores of [a, b]) {
    const order = Array.from(scores.keys()).sort((x, y) => scores[y]! - scores[x]!);
    order.forEach((position, rank) => (fused[position]! += 1 / (60 + rank + 1)));
  }
  return fused;
}

export interface Models extends Rankers {
  readonly decision: DecisionModels;
}

/**
 * `reader` answers as Docent would (from either store); `corpus` is the same index in memory,
 * which the baselines read whole. `firstPassOnly` answers as from an index that keeps no
 * word-piece vectors: no re-ranking, and the decision models fitted without word pieces.
 */
export async function evaluateSet(
  reader: IndexReader,
  corpus: MemoryIndex,
  questions: readonly EvalQuestion[],
  embedder: Embedder,
  models: Models,
  quoteOptions: QuoteOptions,
  options: { readonly firstPassOnly?: boolean } = {},
): Promise<SetResult> {
  const queries = await embedQuestions(
    embedder,
    questions.map((q) => q.question),
  );
  const bm25Index = buildBm25(corpus.sentences.map((sentence) => sentence.text));
  const hits = Object.fromEntries(METHODS.map((m) => [m, [0, 0]])) as Record<Method, [number, number]>;
  const outcomes = { high: 0, low: 0, decline: 0 };
  const misses: string[] = [];
  const records: QuestionRecord[] = [];
  let rankingMs = 0;
  for (const [i, question] of questions.entries()) {
    const began = performance.now();
    // Without the question's word pieces, search ranks and decides as over an index without word-piece vectors.
    const query = options.firstPassOnly ? { vector: queries[i]!.vector } : queries[i]!;
    const result = await search(reader, question.question, query, models, { isCommonWord: commonWordTest(embedder) });
    const evidence = evidenceOf(result);
    const decision = decide(evidence, models.decision);
    rankingMs += performance.now() - began;
    const outcome = decision.kind === 'decline' ? 'decline' : decision.confidence;
    outcomes[outcome]++;
    const record: QuestionRecord = {
      id: question.id,
      question: question.question,
      answerable: question.answerable,
      decision: outcome,
      ...(evidence ? { evidence, scores: decisionScores(evidence, models.decision) } : {}),
    };
    if (!question.answerable) {
      records.push(record);
      if (decision.kind === 'answer' && decision.confidence === 'high') misses.push(`answered with high confidence, but not answerable: ${question.question}`);
      continue;
    }
    const bm25 = bm25Index.score(terms(question.question));
    const dense = corpus.sentenceCosines(queries[i]!.vector);
    const texts = (scores: Float64Array) => topK(scores, 3).map((position) => corpus.sentences[position]!.text);
    // Quality is judged on the quotes Docent would show, whether or not it would decline.
    const quotes: Record<Method, string[]> = {
      docent: quotesFor(result, reader.sources, { ...quoteOptions, maxQuotes: 3 }).quotes.map((quote) => quote.text),
      bm25: texts(bm25),
      dense: texts(dense),
      rrf: texts(rrf(bm25, dense)),
    };
    const firstHits = Object.fromEntries(METHODS.map((method) => [method, quotesHit(question, quotes[method], 1)])) as Record<Method, boolean>;
    for (const method of METHODS) {
      if (firstHits[method]) hits[method][0]++;
      if (quotesHit(question, quotes[method], 3)) hits[method][1]++;
    }
    records.push({
      ...record,
      hit1: firstHits.docent,
      hit3: quotesHit(question, quotes.docent, 3),
      ...(quotes.docent[0] !== undefined ? { firstQuote: quotes.docent[0] } : {}),
    });
    if (decision.kind === 'decline' || !firstHits.docent) {
      misses.push(
        `${decision.kind === 'decline' ? 'declined' : `first quote misses (${decision.confidence})`}: ${question.question}\n    → ${quotes.docent[0] ?? ''}`,
      );
    }
  }
  return {
    n: questions.length,
    hits,
    answerable: questions.filter((q) => q.answerable).length,
    outcomes,
    misses,
    rankingMs: rankingMs / Math.max(1, questions.length),
    records,
  };
}
