/**
 * Fits Docent's ranking weights and decision models on the tuning half of SQuADShifts new_wiki
 * (its even-numbered articles) and writes src/fitted/fitted.json. Nothing here reads the reporting
 * half, WikiQA, COVID-QA or the seed questions. Run: `npm run fit`.
 */
import { writeFile } from 'node:fs/promises';
import { evidenceOf, probability, type EvidenceName, type LogisticModel } from '../answer/decide.ts';
import { cliConfig, stderrEvents, stderrLog } from '../cli/context.ts';
import { embedderFor } from '../docent.ts';
import { FITTED_FILE, type Fitted } from '../fitted/fitted.ts';
import { candidatesFor, FEATURES, search, type RankingWeights } from '../retrieval/search.ts';
import type { SentenceFilter } from '../index/store.ts';
import type { MemoryIndex } from '../index/vectra/memoryIndex.ts';
import { openCorpus } from './corpus.ts';
import { isTuningArticle, newWiki, quotesHit, type EvalQuestion } from './datasets.ts';
import { binaryProbability, fitBinary, fitConditional } from './logistic.ts';
import { quantile } from './metrics.ts';

/** What tells "something in the sources is about this" from "nothing is". */
const RELATED_EVIDENCE: EvidenceName[] = ['similarity', 'chunk', 'keywords', 'topScore'];
/** What tells "the best sentence answers this" from "it only shares the topic". */
const ANSWER_EVIDENCE: EvidenceName[] = ['topScore', 'margin', 'keywords', 'askedType', 'answerType', 'similarity'];
/**
 * Share of answerable tuning questions the related model must keep (never decline). Declining a
 * question the sources answer is the worst outcome, so the line sits near the bottom; a question
 * above it but unlike anything answered is shown as low confidence rather than declined.
 */
const RELATED_KEEP = 0.995;
/** Share of answerable tuning questions answered with high confidence. */
const HIGH_SHARE = 0.9;

const round = (value: number) => Number(value.toFixed(5));

/** Sentences whose chunks hold the answer, so masking them leaves a question the index does not answer. */
function answerChunkMask(index: MemoryIndex, question: EvalQuestion): SentenceFilter {
  const article = question.article!;
  const gold = index.sentences.filter((sentence) => sentence.sourceId === article && quotesHit(question, [sentence.text], 1)).map((s) => s.sentence);
  const goldChunks = index.chunks.filter((chunk) => chunk.sourceId === article && gold.some((s) => chunk.firstSentence <= s && s <= chunk.lastSentence));
  return (sentence) =>
    sentence.sourceId === article && goldChunks.some((chunk) => chunk.firstSentence <= sentence.sentence && sentence.sentence <= chunk.lastSentence);
}

function logistic(features: EvidenceName[], rows: number[][], labels: boolean[], keepScores: number[][], keepShare: number): Fitted['decision']['related'] {
  const model = fitBinary(rows, labels);
  const probabilities = keepScores.map((row) => binaryProbability(model, row)).sort((a, b) => a - b);
  return {
    features,
    mean: model.mean.map(round),
    scale: model.scale.map(round),
    weights: model.weights.map(round),
    bias: round(model.bias),
    threshold: round(quantile(probabilities, 1 - keepShare)),
  };
}

const config = cliConfig({});
const embedder = await embedderFor(config, stderrEvents);
const set = await newWiki();
const index = await openCorpus(set.name, set.articlesDir, embedder);
const tuning = set.questions.filter((question) => isTuningArticle(question.article!));
stderrLog(`Embedding ${tuning.length} tuning questions…`);
const vectors = await embedder.embed(tuning.map((question) => question.question));

stderrLog('Fitting the ranker…');
const groups = [];
for (const [i, question] of tuning.entries()) {
  const { candidates } = await candidatesFor(index, question.question, vectors[i]!);
  groups.push({
    rows: candidates.map(({ features }) => FEATURES.map((name) => features[name])),
    gold: candidates.map(({ sentence }) => quotesHit(question, [sentence.text], 1)),
  });
}
const weights = fitConditional(groups);
const ranking = Object.fromEntries(FEATURES.map((name, j) => [name, round(weights[j]!)])) as RankingWeights;

stderrLog('Fitting the decision models (each question also asked with its answer, then its article, masked)…');
const pick = (features: EvidenceName[], evidence: Record<EvidenceName, number>) => features.map((name) => evidence[name]);
const answerable: Record<EvidenceName, number>[] = [];
const answeredFirst: boolean[] = [];
const withoutAnswer: Record<EvidenceName, number>[] = [];
const withoutArticle: Record<EvidenceName, number>[] = [];
for (const [i, question] of tuning.entries()) {
  const vector = vectors[i]!;
  const full = await search(index, question.question, vector, ranking);
  const evidence = evidenceOf(full);
  if (evidence === undefined) continue;
  answerable.push(evidence);
  answeredFirst.push(quotesHit(question, [full.ranked[0]!.sentence.text], 1));
  const masked = evidenceOf(await search(index, question.question, vector, ranking, { exclude: answerChunkMask(index, question) }));
  if (masked) withoutAnswer.push(masked);
  const offTopic = evidenceOf(await search(index, question.question, vector, ranking, { exclude: (sentence) => sentence.sourceId === question.article }));
  if (offTopic) withoutArticle.push(offTopic);
}

const related = logistic(
  RELATED_EVIDENCE,
  [...answerable, ...withoutArticle].map((e) => pick(RELATED_EVIDENCE, e)),
  [...answerable.map(() => true), ...withoutArticle.map(() => false)],
  answerable.map((e) => pick(RELATED_EVIDENCE, e)),
  RELATED_KEEP,
);
// The answers model learns from questions whose best quote does answer them, against the same questions with the answer masked.
const answersPositive = answerable.filter((_, i) => answeredFirst[i]);
const answers = logistic(
  ANSWER_EVIDENCE,
  [...answersPositive, ...withoutAnswer].map((e) => pick(ANSWER_EVIDENCE, e)),
  [...answersPositive.map(() => true), ...withoutAnswer.map(() => false)],
  answerable.map((e) => pick(ANSWER_EVIDENCE, e)),
  HIGH_SHARE,
);

const share = (rows: Record<EvidenceName, number>[], test: (p: number) => boolean, model: LogisticModel) =>
  `${((100 * rows.filter((e) => test(probability(model, e))).length) / Math.max(1, rows.length)).toFixed(1)}%`;
const fitted: Fitted = {
  description:
    'Fitted on the tuning half of SQuADShifts new_wiki (its even-numbered articles, CC BY 4.0; ../shared/eval/squadshifts-new-wiki) by src/eval/fit.ts. ' +
    'Ranking: a conditional logit over the first-stage candidates of each question, gold = sentences holding a gold answer string. ' +
    `Decision: "related" = logistic regression of answerable questions against the same questions with their article masked, threshold keeping ${100 * RELATED_KEEP}% of answerable ones; ` +
    `"answers" = logistic regression of questions whose best quote answers them against the same questions with the chunks holding the answer masked, threshold giving ${100 * HIGH_SHARE}% of answerable ones high confidence. ` +
    'The reporting half, WikiQA, COVID-QA and eval/seed-questions.jsonl are never read here.',
  command: 'npm run fit',
  ranking,
  decision: { related, answers },
  tuning: {
    questions: tuning.length,
    'hit@1': `${((100 * answeredFirst.filter(Boolean).length) / Math.max(1, answeredFirst.length)).toFixed(1)}%`,
    'answer masked: not high': share(withoutAnswer, (p) => p < answers.threshold, answers),
    'article masked: declined': share(withoutArticle, (p) => p < related.threshold, related),
  },
};
await writeFile(FITTED_FILE, `${JSON.stringify(fitted, null, 2)}\n`);
process.stdout.write(`${JSON.stringify({ ranking, tuning: fitted.tuning }, null, 2)}\nWrote ${FITTED_FILE}\n`);
await embedder.dispose();
