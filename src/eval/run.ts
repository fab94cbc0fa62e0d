/**
 * `npm run eval`: answer quality and the answer/decline decision on every evaluation set, with the
 * BM25, dense and reciprocal-rank-fusion baselines measured in the same run on the same sentences.
 * Only data nothing was fitted on is reported: the new_wiki reporting half, WikiQA dev, COVID-QA,
 * the third batch of natural questions on the tuning articles (which the fit does not read) and
 * Docent's own seed questions (the fit reads the new_wiki tuning half alone; see fit.ts).
 */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { cliConfig, stderrEvents, stderrLog } from '../cli/context.ts';
import { embedderFor } from '../docent.ts';
import { fittedModels } from '../fitted/fitted.ts';
import { startLocalPostgres } from '../index/postgres/localPostgres.ts';
import type { IndexReader } from '../index/store.ts';
import type { MemoryIndex } from '../index/vectra/memoryIndex.ts';
import { openCorpus, openPostgresCorpus } from './corpus.ts';
import { covidQa, isTuningArticle, naturalTuningQuestions, newWiki, seedQuestions, THIRD_BATCH_FILE, wikiQa, type EvalQuestion } from './datasets.ts';
import { evaluateSet, METHODS, type Method, type SetResult } from './evaluate.ts';
import { evenlySpaced, percent } from './metrics.ts';

const options = new Command('eval')
  .description('Measure answer quality and answer/decline decisions on every evaluation set, with baselines')
  .option('--limit <n>', 'evenly spaced subset of the new_wiki reporting-half questions (default: all)', (v) => Number.parseInt(v, 10))
  .option('--misses', 'list the seed questions Docent gets wrong (declined, first quote misses, or unanswerable yet answered with high confidence)')
  .option(
    '--store <kind>',
    'answer from the vectra store; from postgres (DATABASE_URL, else PGlite on 127.0.0.1); or from the vectra store searched as a large index is (graph: HNSW candidates, scored exactly); baselines always read the Vectra copy',
    'vectra',
  )
  .option('--first-pass-only', 'answer as from an index without word-piece vectors: first pass only, decided by the models fitted without word pieces')
  .option('--dump <file>', "write each question's outcome, evidence and decision scores to <file> (JSON lines), for analysis")
  .parse()
  .opts<{ limit?: number; misses?: boolean; store: string; firstPassOnly?: boolean; dump?: string }>();
if (!['vectra', 'postgres', 'graph'].includes(options.store)) throw new Error(`--store must be vectra, postgres or graph, not ${options.store}`);

interface Row extends SetResult {
  readonly label: string;
}

const config = cliConfig({});
const fitted = fittedModels();
const embedder = await embedderFor(config, stderrEvents);
const rows: Row[] = [];
const quoteOptions = { maxQuotes: 3, maxQuoteChars: config.MAX_QUOTE_CHARS };
const local = options.store === 'postgres' && !config.DATABASE_URL ? await startLocalPostgres() : undefined;
const databaseUrl = config.DATABASE_URL ?? local?.url;
const readers = new Map<MemoryIndex, IndexReader>();
const closers: (() => Promise<void>)[] = [];
/** The corpus in memory (for the baselines), and the reader Docent answers from in this run. */
async function corpus(name: string, articlesDir: string): Promise<MemoryIndex> {
  const index = await openCorpus(name, articlesDir, embedder);
  if (options.store === 'graph') readers.set(index, await openCorpus(name, articlesDir, embedder, { graph: true }));
  if (databaseUrl !== undefined && options.store === 'postgres') {
    const postgres = await openPostgresCorpus(name, articlesDir, embedder, databaseUrl);
    readers.set(index, postgres.reader);
    closers.push(postgres.close);
  }
  return index;
}
async function evaluate(label: string, index: MemoryIndex, questions: readonly EvalQuestion[]): Promise<Row> {
  return {
    label,
    ...(await evaluateSet(readers.get(index) ?? index, index, questions, embedder, fitted, quoteOptions, { firstPassOnly: options.firstPassOnly === true })),
  };
}

const wiki = await newWiki();
const wikiIndex = await corpus(wiki.name, wiki.articlesDir);
const reporting = evenlySpaced(
  wiki.questions.filter((q) => !isTuningArticle(q.article!)),
  options.limit,
);
rows.push(await evaluate(`new_wiki reporting half`, wikiIndex, reporting));
rows.push(await evaluate('COVID-QA off-topic', wikiIndex, await covidQa()));

const thirdBatch = await naturalTuningQuestions(THIRD_BATCH_FILE);
const wq = await wikiQa();
const wqIndex = await corpus(wq.name, wq.articlesDir);
const seeds = await seedQuestions();
const seedIndex = await corpus(seeds.name, seeds.articlesDir);
// Each set's questions in two rows: those its sources answer, and those they do not.
for (const [label, index, questions] of [
  ['third batch', wikiIndex, thirdBatch],
  ['WikiQA dev', wqIndex, wq.questions],
  ['seed', seedIndex, seeds.questions],
] as const) {
  rows.push(
    await evaluate(
      `${label} answerable`,
      index,
      questions.filter((q) => q.answerable),
    ),
  );
  rows.push(
    await evaluate(
      `${label} unanswerable`,
      index,
      questions.filter((q) => !q.answerable),
    ),
  );
}
await embedder.dispose();
for (const close of closers) await close();
if (options.dump !== undefined) {
  await writeFile(options.dump, rows.flatMap((row) => row.records.map((record) => `${JSON.stringify({ set: row.label, ...record })}\n`)).join(''));
  stderrLog(`Wrote ${rows.reduce((sum, row) => sum + row.records.length, 0)} questions' outcomes to ${options.dump}.`);
}
await local?.stop();

const cell = (part: number, whole: number) => percent(part, whole).padStart(6);
const pair = (row: Row, method: Method) => (row.answerable > 0 ? `${cell(row.hits[method][0], row.n)} ${cell(row.hits[method][1], row.n)}` : ' '.repeat(13));
const lines = [
  `Answer quality (hit@1 hit@3) and decisions, on data nothing was fitted on; Docent answering from the ${{ postgres: 'PostgreSQL store', graph: 'Vectra store searched as a large index (HNSW candidates)', vectra: 'Vectra store' }[options.store]}${options.firstPassOnly ? ', first pass only (as without word-piece vectors)' : ''}. Baselines: one sentence per quote.`,
  '',
  `${'set'.padEnd(26)} ${'n'.padStart(5)}   ${'Docent'.padEnd(13)}   ${'BM25'.padEnd(13)}   ${'dense'.padEnd(13)}   ${'RRF'.padEnd(13)}   ${'high'.padStart(6)} ${'low'.padStart(6)} ${'declined'.padStart(8)}`,
  ...rows.map(
    (row) =>
      `${row.label.padEnd(26)} ${String(row.n).padStart(5)}   ${METHODS.map((m) => pair(row, m)).join('   ')}   ${cell(row.outcomes.high, row.n)} ${cell(row.outcomes.low, row.n)} ${cell(row.outcomes.decline, row.n).padStart(8)}`,
  ),
  '',
  `third batch: natural questions on the new_wiki tuning articles that npm run fit does not read (eval/tuning-questions-third-batch.jsonl; unanswerable: ${thirdBatch.filter((q) => !q.answerable && q.article).length} the article does not answer, ${thirdBatch.filter((q) => !q.article).length} off-topic).`,
  `high = answered with confidence; low = the closest passages, flagged as possibly not a direct answer; declined = "not covered".`,
  `Ranking and decision: ${(rows.reduce((sum, row) => sum + row.rankingMs * row.n, 0) / rows.reduce((sum, row) => sum + row.n, 0)).toFixed(1)} ms/question after embedding.`,
];
if (options.misses)
  lines.push(
    '',
    'Seed questions Docent gets wrong:',
    ...rows.filter((row) => row.label.startsWith('seed')).flatMap((row) => row.misses.map((miss) => `  ${miss}`)),
  );
process.stdout.write(`${lines.join('\n')}\n`);
