/**
 * Fits Docent's ranking weights and decision models on tuning data only and writes
 * src/fitted/fitted.json. The tuning data: the SQuADShifts new_wiki crowd questions on its tuning
 * half (even-numbered articles), and Docent's own natural questions on the same articles
 * (eval/tuning-questions.jsonl: answerable ones, ones the article does not answer, and off-topic
 * ones). Nothing here reads the reporting half's questions, WikiQA, COVID-QA or the seed
 * questions. Run: `npm run fit`.
 */
import { writeFile } from 'node:fs/promises';
import { evidenceOf, probability, WORD_PIECE_EVIDENCE, type Evidence, type EvidenceName } from '../answer/decide.ts';
import { cliConfig, stderrEvents, stderrLog } from '../cli/context.ts';
import { embedderFor } from '../docent.ts';
import { commonWordTest, embedQuestions } from '../embeddings/embedder.ts';
import { FITTED_FILE, type Fitted } from '../fitted/fitted.ts';
import type { SentenceFilter } from '../index/store.ts';
import type { MemoryIndex } from '../index/vectra/memoryIndex.ts';
import {
  candidatesFor,
  FEATURES,
  type QueryEmbedding,
  type RankingWeights,
  RERANK_FEATURES,
  type RerankingWeights,
  RERANKED,
  rankFirstPass,
  rerankPool,
  search,
} from '../retrieval/search.ts';
import { openCorpus } from './corpus.ts';
import { isTuningArticle, naturalTuningQuestions, newWiki, quotesHit, type EvalQuestion } from './datasets.ts';
import { binaryProbability, type CandidateGroup, fitBinary, fitConditional } from './logistic.ts';
import { weightedQuantile } from './metrics.ts';

/**
 * What tells "something in the sources is about this" from "nothing is". How the question's word
 * pieces meet the passage quoted first (`tokens`, `weakestToken`; see `SearchResult.passage`) serves
 * both models: held out on tuning articles, it lifted off-topic examples declined from 47.5% to
 * 53.9%, and examples on the topic but without the answer kept from high confidence from 54.1% to
 * 61.0%, with 90% of answerable ones still high (`npm run fit` prints both; see
 * `crossValidatedDecision`).
 */
const RELATED_EVIDENCE: EvidenceName[] = ['similarity', 'chunk', 'keywords', 'topScore', 'tokens', 'weakestToken'];
/** What tells "the best sentence answers this" from "it only shares the topic". */
const ANSWER_EVIDENCE: EvidenceName[] = ['topScore', 'margin', 'keywords', 'askedType', 'answerType', 'similarity', 'tokens', 'weakestToken'];
/**
 * Share of answerable tuning questions the related model must keep (never decline). Declining a
 * question the sources answer is the worst outcome, so the line sits near the bottom; a question
 * above it but unlike anything answered is shown as low confidence rather than declined.
 */
const RELATED_KEEP = 0.995;
/**
 * Share of answerable crowd questions holding an unfamiliar word (mostly misspellings) that the
 * stricter related threshold for such questions keeps.
 */
const UNFAMILIAR_KEEP = 0.9;
/** Share of answerable tuning questions answered with high confidence. */
const HIGH_SHARE = 0.9;
/**
 * How much the natural questions weigh against the crowd ones, as a share of the crowd questions'
 * total: chosen among these by cross-validation over tuning articles (below).
 */
const NATURAL_SHARES = [0, 0.25, 0.5, 1];
const FOLDS = 4;

const round = (value: number) => Number(value.toFixed(5));

/** Sentences whose chunks hold the answer, so masking them leaves a question the index does not answer. */
function answerChunkMask(index: MemoryIndex, question: EvalQuestion): SentenceFilter {
  const article = question.article!;
  const gold = index.sentences.filter((sentence) => sentence.sourceId === article && quotesHit(question, [sentence.text], 1)).map((s) => s.sentence);
  const goldChunks = index.chunks.filter((chunk) => chunk.sourceId === article && gold.some((s) => chunk.firstSentence <= s && s <= chunk.lastSentence));
  return (sentence) =>
    sentence.sourceId === article && goldChunks.some((chunk) => chunk.firstSentence <= sentence.sentence && sentence.sentence <= chunk.lastSentence);
}

/** A question's ranking candidates, for the conditional logit. */
interface Group extends CandidateGroup {
  readonly article: string;
}

/** Weight of each of `count` natural questions so that together they weigh `share` of `crowd`. */
const naturalWeight = (share: number, crowd: number, count: number) => (share * crowd) / Math.max(1, count);

/**
 * Every feature is evidence for a sentence, so no weight may be negative: unconstrained, the
 * re-ranking (of 20, when first tried) learnt to take the word-piece evidence less the sentence's
 * cosine (−9 on the cosine), a difference that held on crowd questions (held-out hit@1 79.6%
 * against 78.9% constrained) and not on our natural ones (73.1% against 75.0%).
 */
function fitRanker(crowd: readonly Group[], natural: readonly Group[], share: number): number[] {
  const weight = naturalWeight(share, crowd.length, natural.length);
  return fitConditional([...crowd, ...natural.map((group) => ({ ...group, weight }))], { nonNegative: true });
}

function firstHitShare(groups: readonly Group[], weights: readonly number[]): number {
  const hits = groups.filter((group) => {
    const scores = group.rows.map((row) => row.reduce((sum, value, j) => sum + value * weights[j]!, 0));
    return group.gold[scores.indexOf(Math.max(...scores))];
  }).length;
  return hits / Math.max(1, groups.length);
}

/**
 * The share in NATURAL_SHARES that `measure` scores best (the first on a tie), and each share's
 * figures under the key `label` gives it, logged as they come.
 */
function bestShare(
  label: (share: number) => string,
  measure: (share: number) => { figures: string; score: number },
): { share: number; scores: Record<string, string> } {
  const scores: Record<string, string> = {};
  let best = { share: NATURAL_SHARES[0]!, score: -1 };
  for (const share of NATURAL_SHARES) {
    const { figures, score } = measure(share);
    const key = label(share);
    scores[key] = figures;
    stderrLog(`  ${key}: ${figures}`);
    if (score > best.score) best = { share, score };
  }
  return { share: best.share, scores };
}

/**
 * The natural questions' weight that ranks best on articles left out of the fit: folds of tuning
 * articles, each scored by the mean of its crowd and natural questions' hit@1, so that neither
 * kind of question is given up for the other.
 */
function crossValidatedShare(crowd: readonly Group[], natural: readonly Group[], stage: string): { share: number; scores: Record<string, string> } {
  const articles = [...new Set(crowd.map((group) => group.article))].sort();
  return bestShare(
    (share) => `${stage}, natural share ${share}: held-out hit@1 crowd / natural`,
    (share) => {
      let crowdHits = 0;
      let naturalHits = 0;
      for (let fold = 0; fold < FOLDS; fold++) {
        const heldOut = new Set(articles.filter((_, i) => i % FOLDS === fold));
        const weights = fitRanker(
          crowd.filter((g) => !heldOut.has(g.article)),
          natural.filter((g) => !heldOut.has(g.article)),
          share,
        );
        const crowdOut = crowd.filter((g) => heldOut.has(g.article));
        const naturalOut = natural.filter((g) => heldOut.has(g.article));
        crowdHits += firstHitShare(crowdOut, weights) * crowdOut.length;
        naturalHits += firstHitShare(naturalOut, weights) * naturalOut.length;
      }
      return {
        figures: `${((100 * crowdHits) / crowd.length).toFixed(1)}% / ${((100 * naturalHits) / natural.length).toFixed(1)}%`,
        score: (crowdHits / crowd.length + naturalHits / natural.length) / 2,
      };
    },
  );
}

/** Evidence rows with a weight each, labelled for one decision model. */
interface Example {
  readonly evidence: Evidence;
  readonly weight: number;
  readonly positive: boolean;
}

function logistic(features: EvidenceName[], examples: readonly Example[], keep: readonly Example[], keepShare: number): Fitted['decision']['related'] {
  const pick = (e: Evidence) =>
    features.map((name) => {
      const value = e[name];
      if (value === undefined)
        throw new Error(`The tuning index at ${set.name} gave no ${name} evidence (no word-piece vectors): delete .cache/eval and run again`);
      return value;
    });
  const model = fitBinary(
    examples.map((e) => pick(e.evidence)),
    examples.map((e) => e.positive),
    {},
    examples.map((e) => e.weight),
  );
  const probabilities = keep.map((e) => binaryProbability(model, pick(e.evidence)));
  return {
    features,
    mean: model.mean.map(round),
    scale: model.scale.map(round),
    weights: model.weights.map(round),
    bias: round(model.bias),
    threshold: round(
      weightedQuantile(
        probabilities,
        keep.map((e) => e.weight),
        1 - keepShare,
      ),
    ),
  };
}

const config = cliConfig({});
const embedder = await embedderFor(config, stderrEvents);
const set = await newWiki();
const index = await openCorpus(set.name, set.articlesDir, embedder);
const crowdQuestions = set.questions.filter((question) => isTuningArticle(question.article!));
const naturalQuestions = await naturalTuningQuestions();
stderrLog(`Embedding ${crowdQuestions.length} crowd and ${naturalQuestions.length} natural tuning questions…`);
const crowdQueries = await embedQuestions(
  embedder,
  crowdQuestions.map((q) => q.question),
);
const naturalQueries = await embedQuestions(
  embedder,
  naturalQuestions.map((q) => q.question),
);
const searchOptions = { isCommonWord: commonWordTest(embedder) };

async function groupsOf(questions: readonly EvalQuestion[], queries: readonly QueryEmbedding[]): Promise<Group[]> {
  const groups: Group[] = [];
  for (const [i, question] of questions.entries()) {
    if (!question.answerable) continue;
    const { candidates } = await candidatesFor(index, question.question, queries[i]!.vector);
    groups.push({
      article: question.article!,
      rows: candidates.map(({ features }) => FEATURES.map((name) => features[name])),
      gold: candidates.map(({ sentence }) => quotesHit(question, [sentence.text], 1)),
    });
  }
  return groups;
}

/** Each answerable question's re-ranking pool: the first pass's best under `ranking`, with the word-piece evidence. */
async function rerankGroupsOf(questions: readonly EvalQuestion[], queries: readonly QueryEmbedding[], ranking: RankingWeights): Promise<Group[]> {
  const groups: Group[] = [];
  for (const [i, question] of questions.entries()) {
    if (!question.answerable) continue;
    const { candidates } = await candidatesFor(index, question.question, queries[i]!.vector);
    const pool = await rerankPool(index, rankFirstPass(candidates, ranking), queries[i]!.tokens);
    if (pool === undefined) throw new Error(`The tuning index at ${set.name} holds no word-piece vectors: delete .cache/eval and run again`);
    groups.push({
      article: question.article!,
      rows: pool.map(({ features }) => RERANK_FEATURES.map((name) => features[name])),
      gold: pool.map(({ sentence }) => quotesHit(question, [sentence.text], 1)),
    });
  }
  return groups;
}

stderrLog('Fitting the first pass (the natural questions’ weight by cross-validation over tuning articles)…');
const crowdGroups = await groupsOf(crowdQuestions, crowdQueries);
const naturalGroups = await groupsOf(naturalQuestions, naturalQueries);
const { share, scores } = crossValidatedShare(crowdGroups, naturalGroups, 'first pass');
const fittedWeights = fitRanker(crowdGroups, naturalGroups, share);
const ranking = Object.fromEntries(FEATURES.map((name, j) => [name, round(fittedWeights[j]!)])) as RankingWeights;

stderrLog('Fitting the re-ranking of its best (the same way)…');
const crowdRerank = await rerankGroupsOf(crowdQuestions, crowdQueries, ranking);
const naturalRerank = await rerankGroupsOf(naturalQuestions, naturalQueries, ranking);
const rerankCv = crossValidatedShare(crowdRerank, naturalRerank, 're-ranking');
const rerankWeights = fitRanker(crowdRerank, naturalRerank, rerankCv.share);
const reranking = Object.fromEntries(RERANK_FEATURES.map((name, j) => [name, round(rerankWeights[j]!)])) as RerankingWeights;
const rankers = { ranking, reranking };

stderrLog('Fitting the decision models (each question also asked with its answer, then its article, masked)…');
/** Each tuning question asked as it is, and again with its answer's chunks and then its whole article masked. */
interface Asked {
  readonly question: EvalQuestion;
  readonly natural: boolean;
  readonly full: Evidence;
  readonly answeredFirst: boolean;
  readonly withoutAnswer?: Evidence;
  readonly withoutArticle?: Evidence;
}
const asked: Asked[] = [];
for (const [questions, queries, natural] of [
  [crowdQuestions, crowdQueries, false],
  [naturalQuestions, naturalQueries, true],
] as const) {
  for (const [i, question] of questions.entries()) {
    const query = queries[i]!;
    const full = await search(index, question.question, query, rankers, searchOptions);
    const evidence = evidenceOf(full);
    if (evidence === undefined) continue;
    const masked = async (exclude: SentenceFilter) => evidenceOf(await search(index, question.question, query, rankers, { ...searchOptions, exclude }));
    asked.push({
      question,
      natural,
      full: evidence,
      answeredFirst: question.answerable && quotesHit(question, [full.ranked[0]!.sentence.text], 1),
      ...(question.answerable ? { withoutAnswer: await masked(answerChunkMask(index, question)) } : {}),
      ...(question.article ? { withoutArticle: await masked((sentence) => sentence.sourceId === question.article) } : {}),
    });
  }
}

/** Examples weighted so that the natural ones together weigh `share` of the crowd ones. */
function weighted(crowd: readonly (Evidence | undefined)[], natural: readonly (Evidence | undefined)[], positive: boolean, share: number): Example[] {
  const crowdEvidence = crowd.filter((e) => e !== undefined);
  const naturalEvidence = natural.filter((e) => e !== undefined);
  const weight = naturalWeight(share, crowdEvidence.length, naturalEvidence.length);
  return [...crowdEvidence.map((evidence) => ({ evidence, weight: 1, positive })), ...naturalEvidence.map((evidence) => ({ evidence, weight, positive }))];
}
/** The examples each decision model learns from, out of a group of asked tuning questions, the natural ones weighing `share`. */
function decisionExamples(group: readonly Asked[], share: number) {
  const crowd = group.filter((a) => !a.natural);
  const natural = group.filter((a) => a.natural);
  const answerable = weighted(
    crowd.map((a) => a.full),
    natural.filter((a) => a.question.answerable).map((a) => a.full),
    true,
    share,
  );
  // Off-topic: crowd questions with their article masked; natural off-topic questions; natural questions with their article masked.
  const offTopic = weighted(
    crowd.map((a) => a.withoutArticle),
    natural.map((a) => (a.question.article ? a.withoutArticle : a.full)),
    false,
    share,
  );
  // The answers model learns from questions whose best quote does answer them, against the crowd questions with the answer masked and the natural questions their article does not answer.
  const answersPositive = weighted(
    crowd.filter((a) => a.answeredFirst).map((a) => a.full),
    natural.filter((a) => a.answeredFirst).map((a) => a.full),
    true,
    share,
  );
  const answersNegative = weighted(
    crowd.map((a) => a.withoutAnswer),
    natural.filter((a) => !a.question.answerable && a.question.article).map((a) => a.full),
    false,
    share,
  );
  return { answerable, offTopic, answersPositive, answersNegative };
}

function decisionModels(group: readonly Asked[], relatedEvidence: EvidenceName[], answerEvidence: EvidenceName[], share: number) {
  const { answerable, offTopic, answersPositive, answersNegative } = decisionExamples(group, share);
  return {
    related: logistic(relatedEvidence, [...answerable, ...offTopic], answerable, RELATED_KEEP),
    answers: logistic(answerEvidence, [...answersPositive, ...answersNegative], answerable, HIGH_SHARE),
  };
}

const weightedShare = (examples: readonly Example[], test: (e: Evidence) => boolean) =>
  examples.reduce((sum, e) => sum + (test(e.evidence) ? e.weight : 0), 0) /
  Math.max(
    1e-9,
    examples.reduce((sum, e) => sum + e.weight, 0),
  );

/**
 * How the decision models built from `relatedEvidence` and `answerEvidence`, the natural questions
 * weighing `share`, fare on tuning articles left out of their fit (folds as in the ranker; off-topic
 * natural questions, which have no article, dealt round the folds). Held-out examples are read with
 * natural and crowd ones weighing the same in total, whatever `share` the fit used, so that the
 * figures of different shares compare.
 */
function crossValidatedDecision(relatedEvidence: EvidenceName[], answerEvidence: EvidenceName[], share: number) {
  const articles = [...new Set(asked.flatMap((a) => (a.question.article ? [a.question.article] : [])))].sort();
  const foldOf = (a: Asked, i: number) => (a.question.article ? articles.indexOf(a.question.article) : i) % FOLDS;
  const folds = asked.map(foldOf);
  const totals = { answerable: 0, offTopic: 0, answersNegative: 0 };
  for (let fold = 0; fold < FOLDS; fold++) {
    const { related, answers } = decisionModels(
      asked.filter((_, i) => folds[i] !== fold),
      relatedEvidence,
      answerEvidence,
      share,
    );
    const heldOut = decisionExamples(
      asked.filter((_, i) => folds[i] === fold),
      1,
    );
    totals.answerable += weightedShare(heldOut.answerable, (e) => probability(answers, e) >= answers.threshold && probability(related, e) >= related.threshold);
    totals.offTopic += weightedShare(heldOut.offTopic, (e) => probability(related, e) < related.threshold);
    totals.answersNegative += weightedShare(heldOut.answersNegative, (e) => probability(answers, e) < answers.threshold);
  }
  const mean = (sum: number) => `${((100 * sum) / FOLDS).toFixed(1)}%`;
  return {
    figures: `${mean(totals.answerable)} / ${mean(totals.offTopic)} / ${mean(totals.answersNegative)}`,
    score: (totals.answerable + totals.offTopic + totals.answersNegative) / (3 * FOLDS),
  };
}

const DECISION_FIGURES = 'held out: answerable high / off-topic declined / topic but not the answer not high';
/**
 * The natural questions' weight in the decision models: chosen among NATURAL_SHARES by the mean of
 * the three held-out figures, on its own rather than taken from the ranker's, which weighs ranking
 * alone: with 187 more natural questions, a tie to a tenth of a point there moved the ranker's
 * share from 1 to 0.25, which would have cut the natural examples' weight here fourfold.
 */
function crossValidatedDecisionShare(): { share: number; scores: Record<string, string> } {
  return bestShare(
    (share) => `decision, natural share ${share}, ${DECISION_FIGURES}`,
    (share) => crossValidatedDecision(RELATED_EVIDENCE, ANSWER_EVIDENCE, share),
  );
}

const withoutWordPieces = (evidence: EvidenceName[]) => evidence.filter((name) => !(WORD_PIECE_EVIDENCE as readonly EvidenceName[]).includes(name));
const decisionCv = crossValidatedDecisionShare();
const decisionShare = decisionCv.share;
const withoutWordPiecesKey = `decision from the ranking alone, natural share ${decisionShare}, ${DECISION_FIGURES}`;
decisionCv.scores[withoutWordPiecesKey] = crossValidatedDecision(
  withoutWordPieces(RELATED_EVIDENCE),
  withoutWordPieces(ANSWER_EVIDENCE),
  decisionShare,
).figures;
stderrLog(`  ${withoutWordPiecesKey}: ${decisionCv.scores[withoutWordPiecesKey]}`);
const crowd = asked.filter((a) => !a.natural);
const natural = asked.filter((a) => a.natural);
const { answersNegative, offTopic } = decisionExamples(asked, decisionShare);
// Read off the crowd questions alone: too few natural ones hold such a word for their weight to be fair.
const unfamiliarCrowd = crowd.filter((a) => a.question.answerable && a.full.unfamiliar === 1);
/** Both decision models from `relatedEvidence` and `answerEvidence`, with the related model's stricter line for unfamiliar words. */
function decisionSet(relatedEvidence: EvidenceName[], answerEvidence: EvidenceName[]): Fitted['decision']['withoutWordPieces'] {
  const { related, answers } = decisionModels(asked, relatedEvidence, answerEvidence, decisionShare);
  const probabilities = unfamiliarCrowd.map((a) => probability(related, a.full));
  const relatedIfUnfamiliar = round(
    Math.max(
      related.threshold,
      weightedQuantile(
        probabilities,
        probabilities.map(() => 1),
        1 - UNFAMILIAR_KEEP,
      ),
    ),
  );
  return { related, answers, relatedIfUnfamiliar };
}
const { related, answers, relatedIfUnfamiliar } = decisionSet(RELATED_EVIDENCE, ANSWER_EVIDENCE);
const withoutWordPieceModels = decisionSet(withoutWordPieces(RELATED_EVIDENCE), withoutWordPieces(ANSWER_EVIDENCE));

const percentWhere = (examples: readonly Example[], test: (e: Evidence) => boolean) =>
  `${((100 * examples.filter((e) => test(e.evidence)).length) / Math.max(1, examples.length)).toFixed(1)}%`;
const declined = (e: Evidence) => probability(related, e) < (e.unfamiliar === 1 ? relatedIfUnfamiliar : related.threshold);
const hitShare = (group: readonly Asked[]) =>
  `${((100 * group.filter((a) => a.answeredFirst).length) / Math.max(1, group.filter((a) => a.question.answerable).length)).toFixed(1)}%`;
const fitted: Fitted = {
  description:
    'Fitted by src/eval/fit.ts on tuning data only: the SQuADShifts new_wiki crowd questions on its tuning half (even-numbered articles, CC BY 4.0; ../shared/eval/squadshifts-new-wiki) ' +
    "and Docent's own natural questions on the same articles (eval/tuning-questions.jsonl). " +
    `Ranking: a conditional logit over the first-stage candidates of each question, gold = sentences holding a gold answer string; the natural questions weigh ${share} of the crowd questions' total, chosen by ${FOLDS}-fold cross-validation over tuning articles. ` +
    `Re-ranking: the same over the best ${RERANKED} of that first pass, with the word-piece evidence added; the natural questions weigh ${rerankCv.share}, chosen the same way. ` +
    `Decision: "related" = logistic regression of answerable questions against crowd questions with their article masked, natural off-topic questions and natural questions with their article masked, threshold keeping ${100 * RELATED_KEEP}% of answerable ones; ` +
    `relatedIfUnfamiliar = the stricter threshold for a question holding a word rare in English that no source holds, keeping ${100 * UNFAMILIAR_KEEP}% of such answerable crowd questions (${unfamiliarCrowd.length}); ` +
    `"answers" = logistic regression of questions whose best quote answers them against crowd questions with the chunks holding the answer masked and natural questions their article does not answer, threshold giving ${100 * HIGH_SHARE}% of answerable ones high confidence. ` +
    `In both, the natural questions weigh ${decisionShare} of the crowd questions' total, chosen by ${FOLDS}-fold cross-validation over tuning articles on the decision's own held-out figures. ` +
    'withoutWordPieces: the same three, fitted without the word-piece evidence, for a question an index without word-piece vectors could not re-rank. ' +
    'The reporting half, WikiQA, COVID-QA and eval/seed-questions.jsonl are never read here.',
  command: 'npm run fit',
  ranking,
  reranking,
  decision: { related, answers, relatedIfUnfamiliar, withoutWordPieces: withoutWordPieceModels },
  tuning: {
    'crowd questions': crowd.length,
    'natural questions (answerable, unanswered, off-topic)': `${natural.filter((a) => a.question.answerable).length}, ${natural.filter((a) => !a.question.answerable && a.question.article).length}, ${natural.filter((a) => !a.question.article).length}`,
    'natural share': share,
    ...scores,
    're-ranking natural share': rerankCv.share,
    ...rerankCv.scores,
    'decision natural share': decisionShare,
    ...decisionCv.scores,
    'hit@1 crowd': hitShare(crowd),
    'hit@1 natural': hitShare(natural),
    'answer masked (crowd): not high': percentWhere(
      answersNegative.filter((e) => e.weight === 1),
      (e) => probability(answers, e) < answers.threshold,
    ),
    'article masked (crowd): declined': percentWhere(
      offTopic.filter((e) => e.weight === 1),
      declined,
    ),
    'natural off-topic: declined': percentWhere(
      natural.filter((a) => !a.question.article).map((a) => ({ evidence: a.full, weight: 1, positive: false })),
      declined,
    ),
  },
};
await writeFile(FITTED_FILE, `${JSON.stringify(fitted, null, 2)}\n`);
process.stdout.write(`${JSON.stringify({ ranking, reranking, tuning: fitted.tuning }, null, 2)}\nWrote ${FITTED_FILE}\n`);
await embedder.dispose();
