import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { composeAnswer } from '../answer/composeAnswer.ts';
import { coversQuestion, DEFAULT_THRESHOLDS, evidenceOf, type DeclineThresholds, type Evidence } from '../answer/decide.ts';
import { cliConfig, stderrLog } from '../cli/context.ts';
import { progressRenderer } from '../cli/progress.ts';
import { embedderFor, reindexFromConfig } from '../docent.ts';
import { openIndex } from '../index/openIndex.ts';
import { dotAll, topK } from '../retrieval/rank.ts';
import { search } from '../retrieval/search.ts';
import { buildSearchIndex, type SearchIndex } from '../retrieval/searchIndex.ts';
import { terms } from '../retrieval/terms.ts';
import { evenlySpaced, isHit, percent } from './metrics.ts';

interface EvalQuestion {
  readonly id: string;
  readonly question: string;
  readonly answers: string[];
}

const shared = path.resolve('..', 'shared', 'eval');

const options = new Command('eval')
  .description('Measure answer quality on the SQuADShifts new_wiki QA set and the no-answer trade-off')
  .option('--limit <n>', 'evenly spaced subset of the in-scope questions (default: all)', (v) => Number.parseInt(v, 10))
  .option('--articles <dir>', 'articles to index', path.join(shared, 'squadshifts-new-wiki', 'articles'))
  .option('--questions <file>', 'in-scope questions (JSONL)', path.join(shared, 'squadshifts-new-wiki', 'questions.jsonl'))
  .option('--out-of-scope <file>', 'questions the articles do not answer (JSONL)', path.join(shared, 'out-of-scope-covidqa.jsonl'))
  .option('--index <dir>', 'where to keep the eval index (re-used across runs)', '.cache/eval-index')
  .parse()
  .opts<{ limit?: number; articles: string; questions: string; outOfScope: string; index: string }>();

async function readJsonl<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const config = cliConfig({ SOURCES_DIR: options.articles, INDEX_DIR: options.index });
const embedder = await embedderFor(config, stderrLog);
const progress = progressRenderer();
const summary = await reindexFromConfig(config, embedder, { onProgress: progress.onProgress });
progress.stop();
const generation = await openIndex(config.INDEX_DIR);
if (!generation) throw new Error('The eval index could not be opened.');
const index = buildSearchIndex(generation);
stderrLog(`Index: ${index.sources.size} articles, ${index.chunks.length} chunks, ${index.sentences.length} sentences (${summary.updated ? 'updated' : 'reused'}).`);

const inScope = evenlySpaced(await readJsonl<EvalQuestion>(options.questions), options.limit);
const outOfScope = await readJsonl<{ id: string; question: string }>(options.outOfScope);
stderrLog(`Embedding ${inScope.length} in-scope and ${outOfScope.length} out-of-scope questions…`);
const inVectors = await embedder.embed(inScope.map((q) => q.question));
const outVectors = await embedder.embed(outOfScope.map((q) => q.question));

const hits = { engine: [0, 0], bm25: [0, 0], dense: [0, 0] };
let quoteChars = 0;
let quoteCount = 0;
const inEvidence: Evidence[] = [];

function baselineQuotes(scores: ArrayLike<number>, searchIndex: SearchIndex): string[] {
  return topK(scores, 3).map((i) => searchIndex.sentences[i]!.text);
}

function tally(key: keyof typeof hits, quotes: string[], answers: string[]): void {
  if (isHit(quotes, answers, 1)) hits[key][0]!++;
  if (isHit(quotes, answers, 3)) hits[key][1]!++;
}

const began = performance.now();
inScope.forEach((question, i) => {
  const vector = inVectors[i]!;
  const result = search(index, question.question, vector);
  inEvidence.push(evidenceOf(result.ranked));
  // Quality is judged on the quotes the engine would show, whether or not it would decline.
  const answer = composeAnswer(question.question, result, index, {
    maxQuotes: config.MAX_QUOTES,
    maxQuoteChars: config.MAX_QUOTE_CHARS,
    thresholds: { minSimilarity: -Infinity, coverageWeight: 0, minEvidence: -Infinity },
  });
  const quotes = answer.quotes.map((quote) => quote.text);
  quoteChars += quotes.reduce((sum, text) => sum + text.length, 0);
  quoteCount += quotes.length;
  tally('engine', quotes, question.answers);
  tally('bm25', baselineQuotes(index.sentenceKeywords.score(terms(question.question)), index), question.answers);
  tally('dense', baselineQuotes(dotAll(index.sentenceVectors, index.dimensions, vector), index), question.answers);
});
const msPerQuestion = (performance.now() - began) / Math.max(1, inScope.length);
const outEvidence = outOfScope.map((question, i) => evidenceOf(search(index, question.question, outVectors[i]!).ranked));

function tradeOff(thresholds: DeclineThresholds): { answered: number; declined: number } {
  return {
    answered: inEvidence.filter((evidence) => coversQuestion(evidence, thresholds)).length / Math.max(1, inEvidence.length),
    declined: outEvidence.filter((evidence) => !coversQuestion(evidence, thresholds)).length / Math.max(1, outEvidence.length),
  };
}

const n = inScope.length;
const lines = [
  `Eval: ${n} in-scope questions (SQuADShifts new_wiki), ${outOfScope.length} out-of-scope (COVID-QA); ${index.sentences.length} sentences indexed.`,
  '',
  '                      hit@1    hit@3',
  `  Docent (fused)      ${percent(hits.engine[0]!, n).padStart(6)}   ${percent(hits.engine[1]!, n).padStart(6)}`,
  `  BM25 sentences      ${percent(hits.bm25[0]!, n).padStart(6)}   ${percent(hits.bm25[1]!, n).padStart(6)}`,
  `  dense sentences     ${percent(hits.dense[0]!, n).padStart(6)}   ${percent(hits.dense[1]!, n).padStart(6)}`,
  '',
  `  mean quote length: ${(quoteChars / Math.max(1, quoteCount)).toFixed(0)} characters; ranking ${msPerQuestion.toFixed(1)} ms/question (after embedding)`,
  '',
  `No-answer trade-off at the chosen thresholds ${JSON.stringify(DEFAULT_THRESHOLDS)}:`,
  `  in-scope answered: ${(100 * tradeOff(DEFAULT_THRESHOLDS).answered).toFixed(1)}%   out-of-scope declined: ${(100 * tradeOff(DEFAULT_THRESHOLDS).declined).toFixed(1)}%`,
  '',
  'Nearby settings (minEvidence → in-scope answered, out-of-scope declined):',
];
for (const minEvidence of [0.7, 0.74, 0.78, 0.82, 0.86]) {
  const { answered, declined } = tradeOff({ ...DEFAULT_THRESHOLDS, minEvidence });
  lines.push(`  ${minEvidence.toFixed(2)} → ${(100 * answered).toFixed(1)}%, ${(100 * declined).toFixed(1)}%${minEvidence === DEFAULT_THRESHOLDS.minEvidence ? '  (chosen)' : ''}`);
}
lines.push(`  similarity alone (max cosine ≥ 0.5) → ${(100 * tradeOff({ minSimilarity: 0.5, coverageWeight: 0, minEvidence: 0.5 }).answered).toFixed(1)}%, ${(100 * tradeOff({ minSimilarity: 0.5, coverageWeight: 0, minEvidence: 0.5 }).declined).toFixed(1)}%`);
const beats = hits.engine[0]! > hits.bm25[0]! && hits.engine[0]! > hits.dense[0]!;
lines.push('', beats ? 'Docent beats both baselines on hit@1.' : 'WARNING: Docent does not beat both baselines on hit@1.');
process.stdout.write(`${lines.join('\n')}\n`);
await embedder.dispose();
