/**
 * `npm run eval`: answer quality and the answer/decline decision on every evaluation set, with the
 * BM25, dense and reciprocal-rank-fusion baselines measured in the same run on the same sentences.
 * Only data nothing was fitted on is reported: the new_wiki reporting half, WikiQA dev, COVID-QA
 * and Docent's own seed questions (the fit reads the new_wiki tuning half alone; see fit.ts).
 */
import { Command } from 'commander';
import { quotesFor } from '../answer/composeAnswer.ts';
import { decide, evidenceOf } from '../answer/decide.ts';
import { cliConfig, stderrLog } from '../cli/context.ts';
import { embedderFor } from '../docent.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { fittedModels } from '../fitted/fitted.ts';
import { dotAll, topK } from '../retrieval/rank.ts';
import { search } from '../retrieval/search.ts';
import type { SearchIndex } from '../retrieval/searchIndex.ts';
import { terms } from '../retrieval/terms.ts';
import { openCorpus } from './corpus.ts';
import { covidQa, isTuningArticle, newWiki, quotesHit, seedQuestions, wikiQa, type EvalQuestion } from './datasets.ts';
import { evenlySpaced, percent } from './metrics.ts';

const options = new Command('eval')
  .description('Measure answer quality and answer/decline decisions on every evaluation set, with baselines')
  .option('--limit <n>', 'evenly spaced subset of the new_wiki reporting-half questions (default: all)', (v) => Number.parseInt(v, 10))
  .option('--misses', 'list the seed questions whose first quote does not answer them, or that are declined')
  .parse()
  .opts<{ limit?: number; misses?: boolean }>();

const METHODS = ['docent', 'bm25', 'dense', 'rrf'] as const;
type Method = (typeof METHODS)[number];

interface Row {
  readonly label: string;
  readonly n: number;
  readonly hits?: Record<Method, [number, number]>;
  readonly outcomes: { high: number; low: number; decline: number };
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

const config = cliConfig({});
const fitted = fittedModels();
const quoteOptions = { maxQuotes: 3, maxQuoteChars: config.MAX_QUOTE_CHARS };
const misses: string[] = [];
let rankingMs = 0;
let ranked = 0;

async function evaluate(label: string, index: SearchIndex, questions: readonly EvalQuestion[], embedder: Embedder): Promise<Row> {
  const vectors = await embedder.embed(questions.map((q) => q.question));
  const hits = Object.fromEntries(METHODS.map((m) => [m, [0, 0]])) as Record<Method, [number, number]>;
  const outcomes = { high: 0, low: 0, decline: 0 };
  questions.forEach((question, i) => {
    const began = performance.now();
    const result = search(index, question.question, vectors[i]!, fitted.ranking);
    const decision = decide(evidenceOf(result), fitted.decision);
    rankingMs += performance.now() - began;
    ranked++;
    outcomes[decision.kind === 'decline' ? 'decline' : decision.confidence]++;
    if (!question.answerable) {
      if (label.startsWith('seed') && decision.kind === 'answer' && decision.confidence === 'high') misses.push(`  answered with high confidence, but not answerable: ${question.question}`);
      return;
    }
    const bm25 = index.sentenceKeywords.score(terms(question.question));
    const dense = dotAll(index.sentenceVectors, index.dimensions, vectors[i]!);
    const texts = (scores: Float64Array) => topK(scores, 3).map((position) => index.sentences[position]!.text);
    // Quality is judged on the quotes Docent would show, whether or not it would decline.
    const quotes: Record<Method, string[]> = {
      docent: quotesFor(result, index, quoteOptions).quotes.map((quote) => quote.text),
      bm25: texts(bm25),
      dense: texts(dense),
      rrf: texts(rrf(bm25, dense)),
    };
    for (const method of METHODS) {
      if (quotesHit(question, quotes[method], 1)) hits[method][0]++;
      if (quotesHit(question, quotes[method], 3)) hits[method][1]++;
    }
    if (label.startsWith('seed') && (decision.kind === 'decline' || !quotesHit(question, quotes.docent, 1))) {
      misses.push(`  ${decision.kind === 'decline' ? 'declined' : `first quote misses (${decision.confidence})`}: ${question.question}\n    → ${quotes.docent[0] ?? ''}`);
    }
  });
  return { label, n: questions.length, ...(questions.some((q) => q.answerable) ? { hits } : {}), outcomes };
}

const embedder = await embedderFor(config, stderrLog);
const rows: Row[] = [];

const wiki = await newWiki();
const wikiIndex = await openCorpus(wiki.name, wiki.articlesDir, embedder);
const reporting = evenlySpaced(wiki.questions.filter((q) => !isTuningArticle(q.article!)), options.limit);
rows.push(await evaluate(`new_wiki reporting half`, wikiIndex, reporting, embedder));
rows.push(await evaluate('COVID-QA off-topic', wikiIndex, await covidQa(), embedder));

const wq = await wikiQa();
const wqIndex = await openCorpus(wq.name, wq.articlesDir, embedder);
rows.push(await evaluate('WikiQA dev answerable', wqIndex, wq.questions.filter((q) => q.answerable), embedder));
rows.push(await evaluate('WikiQA dev unanswerable', wqIndex, wq.questions.filter((q) => !q.answerable), embedder));

const seeds = await seedQuestions();
const seedIndex = await openCorpus(seeds.name, seeds.articlesDir, embedder);
rows.push(await evaluate('seed answerable', seedIndex, seeds.questions.filter((q) => q.answerable), embedder));
rows.push(await evaluate('seed unanswerable', seedIndex, seeds.questions.filter((q) => !q.answerable), embedder));
await embedder.dispose();

const cell = (part: number, whole: number) => percent(part, whole).padStart(6);
const pair = (row: Row, method: Method) => (row.hits ? `${cell(row.hits[method][0], row.n)} ${cell(row.hits[method][1], row.n)}` : ' '.repeat(13));
const lines = [
  'Answer quality (hit@1 hit@3) and decisions, on data nothing was fitted on. Baselines: one sentence per quote.',
  '',
  `${'set'.padEnd(26)} ${'n'.padStart(5)}   ${'Docent'.padEnd(13)}   ${'BM25'.padEnd(13)}   ${'dense'.padEnd(13)}   ${'RRF'.padEnd(13)}   ${'high'.padStart(6)} ${'low'.padStart(6)} ${'declined'.padStart(8)}`,
  ...rows.map(
    (row) =>
      `${row.label.padEnd(26)} ${String(row.n).padStart(5)}   ${METHODS.map((m) => pair(row, m)).join('   ')}   ${cell(row.outcomes.high, row.n)} ${cell(row.outcomes.low, row.n)} ${cell(row.outcomes.decline, row.n).padStart(8)}`,
  ),
  '',
  `high = answered with confidence; low = the closest passages, flagged as possibly not a direct answer; declined = "not covered".`,
  `Ranking and decision: ${(rankingMs / Math.max(1, ranked)).toFixed(1)} ms/question after embedding.`,
];
if (options.misses) lines.push('', 'Seed questions Docent gets wrong:', ...misses);
process.stdout.write(`${lines.join('\n')}\n`);
