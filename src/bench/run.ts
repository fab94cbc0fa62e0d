import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Command } from 'commander';
import { cliConfig, stderrEvents, stderrLog } from '../cli/context.ts';
import { embedderFor, openDocent } from '../docent.ts';
import { embeddingInputs, recordsOf, indexSettings } from '../index/reindex.ts';
import { loadSources } from '../sources/loadSources.ts';
import { evenlySpaced, quantile } from '../eval/metrics.ts';
import { startIdleProbe } from './idleProbe.ts';
import { benchStores } from './stores.ts';

const shared = path.resolve('..', 'shared', 'eval', 'squadshifts-new-wiki');

const sizes = (value: string) => value.split(',').map((size) => Number.parseInt(size.replace(/k$/i, '000').replace(/m$/i, '000000'), 10));
const options = new Command('bench')
  .description(
    'Measure model load, index build vs raw embedding throughput, query latency, memory and index size; ' +
      'with --scale, the store alone at synthetic corpus sizes',
  )
  .option('--copies <n>', 'index this many copies of the articles', (v) => Number.parseInt(v, 10), 1)
  .option('--articles <dir>', 'articles to index', path.join(shared, 'articles'))
  .option('--questions <n>', 'questions to time', (v) => Number.parseInt(v, 10), 200)
  .option('--raw-sample <n>', 'texts embedded directly to measure raw throughput', (v) => Number.parseInt(v, 10), 2000)
  .option('--scale <sizes>', 'store figures at these corpus sizes in sentences, e.g. 10k,100k,1m (synthetic vectors)', sizes)
  .option('--postgres <sizes>', 'with --scale: also the PostgreSQL store (PGlite on 127.0.0.1) at these sizes', sizes)
  .parse()
  .opts<{ copies: number; articles: string; questions: number; rawSample: number; scale?: number[]; postgres?: number[] }>();

if (options.scale) {
  await benchStores(options.scale, options.postgres ?? [], options.articles);
  process.exit(0);
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** An idle process's stalls shorter than this are not worth a line (see idleProbe.ts). */
const PROBE_LISTED_MS = 20;

const work = await mkdtemp(path.join(os.tmpdir(), 'docent-bench-'));
const sourcesDir = path.join(work, 'sources');
for (let copy = 0; copy < options.copies; copy++) {
  await mkdir(path.join(sourcesDir, `copy-${copy}`), { recursive: true });
  await cp(options.articles, path.join(sourcesDir, `copy-${copy}`), { recursive: true });
}
const config = cliConfig({ SOURCES_DIR: sourcesDir, INDEX_DIR: path.join(work, 'index'), GAPS_LOG: path.join(work, 'gaps.jsonl') });

let began = performance.now();
const embedder = await embedderFor(config, stderrEvents);
const modelLoadSeconds = (performance.now() - began) / 1000;

// The naive raw pipeline: the same model on the texts the index embeds, in corpus order, one
// model call per batch, nothing else around it. Batches then mix chunks with short sentences,
// and every text is padded to the longest of its batch; indexing sorts by length instead.
const { documents } = await loadSources(sourcesDir, { maxBytes: config.MAX_SOURCE_BYTES });
const settings = indexSettings(embedder, config.CHUNK_OVERLAP_SENTENCES);
const allTexts = documents.flatMap((document) =>
  embeddingInputs(recordsOf(document, settings, config.CHUNK_OVERLAP_SENTENCES, (t) => embedder.countTokens(t))),
);
const sample = allTexts.slice(0, options.rawSample);
stderrLog(`Naive raw embedding of the first ${sample.length} of the ${allTexts.length} texts…`);
began = performance.now();
for (let start = 0; start < sample.length; start += config.EMBED_BATCH_SIZE) await embedder.embed(sample.slice(start, start + config.EMBED_BATCH_SIZE));
const rawPerSecond = sample.length / ((performance.now() - began) / 1000);

stderrLog(`Building the index over ${documents.length} articles…`);
const probe = await startIdleProbe(PROBE_LISTED_MS);
began = performance.now();
const stalls = monitorEventLoopDelay({ resolution: 10 });
stalls.enable();
const docent = await openDocent(config, {}, embedder, { indexOffThread: true });
stalls.disable();
const buildSeconds = (performance.now() - began) / 1000;
const machineStall = Math.max(0, ...probe.stallsBetween(performance.timeOrigin + began, performance.timeOrigin + performance.now()).map(([ms]) => ms));
probe.stop();
const { sources } = docent.sources();
const chunks = sources.reduce((sum, source) => sum + source.chunks, 0);
const sentences = sources.reduce((sum, source) => sum + source.sentences, 0);
// Each sentence is embedded twice: alone and in its article's context.
const indexPerSecond = (chunks + 2 * sentences) / buildSeconds;

const questions = evenlySpaced(
  (await readFile(path.join(shared, 'questions.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { question: string }).question),
  options.questions,
);
const latencies: number[] = [];
for (const question of questions) {
  const start = performance.now();
  await docent.ask(question);
  latencies.push(performance.now() - start);
}
latencies.sort((a, b) => a - b);
const indexBytes = await directorySize(config.INDEX_DIR);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

const lines = [
  `Docent bench: ${documents.length} articles (${options.copies} cop${options.copies === 1 ? 'y' : 'ies'}), ${chunks} chunks + ${sentences} sentences, ${os.cpus().length} cores`,
  `  model load:            ${modelLoadSeconds.toFixed(2)} s`,
  `  index build:           ${buildSeconds.toFixed(1)} s  (${(chunks / buildSeconds).toFixed(1)} chunks/s; ${indexPerSecond.toFixed(1)} texts/s incl. sentences alone and in context)`,
  `  naive raw embedding:   ${rawPerSecond.toFixed(1)} texts/s (same model and texts, corpus order, batches of ${config.EMBED_BATCH_SIZE}, this run)`,
  `  build / naive ratio:   ${(indexPerSecond / rawPerSecond).toFixed(2)}`,
  `  longest event-loop stall during the build: ${(stalls.max / 1e6).toFixed(0)} ms (the model on its own thread, as in the bot); ` +
    `an idle process beside it: ${machineStall >= PROBE_LISTED_MS ? `${machineStall} ms` : `under ${PROBE_LISTED_MS} ms`} (the machine's own)`,
  `  query latency:         p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p95 ${quantile(latencies, 0.95).toFixed(1)} ms (${latencies.length} questions, question in → answer out)`,
  `  peak RSS:              ${peakRssMiB.toFixed(0)} MiB`,
  `  index size on disk:    ${(indexBytes / 1024 / 1024).toFixed(1)} MiB`,
];
process.stdout.write(`${lines.join('\n')}\n`);
await docent.close();
await rm(work, { recursive: true, force: true });
