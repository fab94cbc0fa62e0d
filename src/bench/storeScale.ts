/**
 * Store-level figures at sizes where real embedding would take hours: a corpus of `--sentences`
 * synthetic sentences (real new_wiki sentence texts, cycled, with random unit vectors) is written
 * to a store, re-indexed after one changed article, loaded, and queried through the real ranking.
 * Prints one JSON line; `npm run bench -- --store-scale …` runs it once per size in a fresh process
 * so each RSS figure is that size's alone.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance as nodePerformance } from 'node:perf_hooks';
import { Command } from 'commander';
import { quantile } from '../eval/metrics.ts';
import { fittedModels } from '../fitted/fitted.ts';
import { MANIFEST_VERSION, type IndexedSource, type IndexSettings, type Manifest } from '../index/manifest.ts';
import { startLocalPostgres } from '../index/postgres/localPostgres.ts';
import { PostgresStore } from '../index/postgres/postgresStore.ts';
import { termCounts } from '../index/keywords.ts';
import type { IndexStore, SentenceRecord, SourceItems } from '../index/store.ts';
import { MemoryIndex } from '../index/vectra/memoryIndex.ts';
import { VectraStore } from '../index/vectra/vectraStore.ts';
import { search } from '../retrieval/search.ts';
import { startIdleProbe } from './idleProbe.ts';

const options = new Command('store-scale')
  .requiredOption('--sentences <n>', 'sentences in the synthetic corpus', (v) => Number.parseInt(v, 10))
  .option('--store <kind>', 'vectra or postgres (PGlite on 127.0.0.1)', 'vectra')
  .option('--articles <dir>', 'where the sentence texts come from', path.resolve('..', 'shared', 'eval', 'squadshifts-new-wiki', 'articles'))
  .option('--queries <n>', 'queries to time', (v) => Number.parseInt(v, 10), 100)
  .parse()
  .opts<{ sentences: number; store: 'vectra' | 'postgres'; articles: string; queries: number }>();

const DIMENSIONS = 384;
/** Sentences kept while writing, for questions to be made near. */
const PLANTED = 200;
/** As in new_wiki: about 170 sentences per article and 4.4 sentences per chunk. */
const SENTENCES_PER_SOURCE = 170;
const SENTENCES_PER_CHUNK = 4.4;
const SETTINGS: IndexSettings = { modelId: 'synthetic', dimensions: DIMENSIONS, chunkerVersion: 0, chunkMaxTokens: 256, overlapSentences: 0 };

/** Deterministic randomness, so every run and both stores see the same corpus. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVector(next: () => number): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  let norm = 0;
  for (let d = 0; d < DIMENSIONS; d++) {
    // Sum of uniforms: near-Gaussian, so directions are spread evenly.
    const value = next() + next() + next() - 1.5;
    vector[d] = value;
    norm += value * value;
  }
  norm = Math.sqrt(norm);
  for (let d = 0; d < DIMENSIONS; d++) vector[d]! /= norm;
  return vector;
}

async function sentenceTexts(dir: string): Promise<string[]> {
  const texts: string[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const body = await readFile(path.join(dir, file), 'utf8');
    texts.push(
      ...body
        .split(/(?<=[.!?])\s+/)
        .map((text) => text.trim())
        .filter((text) => text.length > 20),
    );
  }
  return texts;
}

function syntheticSource(index: number, texts: readonly string[], next: () => number, version = 0): { items: SourceItems; described: IndexedSource } {
  const id = `synthetic/${String(index).padStart(6, '0')}.md`;
  let offset = 0;
  const sentences = Array.from({ length: SENTENCES_PER_SOURCE }, (_, i) => {
    const text = texts[(index * SENTENCES_PER_SOURCE + i + version) % texts.length]!;
    const record = { sourceId: id, sentence: i, start: offset, end: offset + text.length, line: i + 1, text, entities: '' };
    offset += text.length + 1;
    return { record, vector: unitVector(next), context: unitVector(next) };
  });
  const chunkCount = Math.ceil(SENTENCES_PER_SOURCE / SENTENCES_PER_CHUNK);
  const chunks = Array.from({ length: chunkCount }, (_, c) => {
    const first = Math.floor(c * SENTENCES_PER_CHUNK);
    const last = Math.min(SENTENCES_PER_SOURCE - 1, Math.floor((c + 1) * SENTENCES_PER_CHUNK));
    const start = sentences[first]!.record.start;
    const end = sentences[last]!.record.end;
    return { record: { sourceId: id, chunk: c, start, end, firstSentence: first, lastSentence: last, text: `chunk ${c}` }, vector: unitVector(next) };
  });
  return {
    items: { sourceId: id, chunks, sentences, termCounts: termCounts(sentences.map((s) => s.record)) },
    described: {
      id,
      path: id,
      title: `Synthetic article ${index}`,
      hash: `v${version}`,
      chunks: chunks.length,
      sentences: sentences.length,
      indexedAt: new Date(0).toISOString(),
    },
  };
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Stalls at least this long are listed one by one, so a phase's stalls can be placed and counted. */
const LISTED_STALL_MS = 50;

/**
 * Runs `work` while sampling the event loop; returns seconds taken, the longest block in ms, when
 * in the phase it ended (seconds from the start), the longest garbage-collection pause, so a
 * stall can be told apart as collection or as work, every stall of LISTED_STALL_MS or more
 * as [ms, seconds into the phase when it ended], the same for an idle process beside it (stalls of
 * the machine, see idleProbe.ts), and the share of the phase the thread was busy (the rest it was
 * free to answer questions).
 */
async function timed(work: () => Promise<void>): Promise<{
  seconds: number;
  longestBlockMs: number;
  blockAtSeconds: number;
  longestGcMs: number;
  stalls: [number, number][];
  machineStalls: [number, number][];
  busyShare: number;
}> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let longestGcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const began = performance.now();
  let last = began;
  let longestGap = 0;
  let blockAt = 0;
  const stalls: [number, number][] = [];
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > longestGap) [longestGap, blockAt] = [now - last, now - began];
    // The ticker's own 10 ms period is not stall.
    if (now - last - 10 >= LISTED_STALL_MS) stalls.push([Math.round(now - last - 10), Number(((now - began) / 1000).toFixed(1))]);
    last = now;
  }, 10);
  histogram.enable();
  const idle = nodePerformance.eventLoopUtilization();
  await work();
  const busyShare = nodePerformance.eventLoopUtilization(idle).utilization;
  const seconds = (performance.now() - began) / 1000;
  histogram.disable();
  clearInterval(ticker);
  gc.disconnect();
  const machineStalls = probe
    .stallsBetween(performance.timeOrigin + began, performance.timeOrigin + performance.now())
    .map(([ms, at]): [number, number] => [ms, Number(((at - performance.timeOrigin - began) / 1000).toFixed(1))]);
  return { seconds, longestBlockMs: histogram.max / 1e6, blockAtSeconds: blockAt / 1000, longestGcMs, stalls, machineStalls, busyShare };
}

const probe = await startIdleProbe(LISTED_STALL_MS);
const texts = await sentenceTexts(options.articles);
const sourceCount = Math.max(1, Math.round(options.sentences / SENTENCES_PER_SOURCE));
const work = await mkdtemp(path.join(os.tmpdir(), 'docent-store-bench-'));
const postgres = options.store === 'postgres' ? await startLocalPostgres() : undefined;
const store: IndexStore = postgres ? new PostgresStore(postgres.url) : new VectraStore(work);
const manifestOf = (sources: IndexedSource[]): Manifest => ({ version: MANIFEST_VERSION, settings: SETTINGS, builtAt: new Date().toISOString(), sources });

const next = random(42);
const described: IndexedSource[] = [];
/** Sentences (of sources other than the one that changes) that questions are made near. */
const planted: { vector: Float32Array; record: SentenceRecord }[] = [];
const write = await timed(() =>
  store.exclusive(async () => {
    const writer = await store.begin(SETTINGS);
    for (let i = 0; i < sourceCount; i++) {
      const source = syntheticSource(i, texts, next);
      await writer.put(source.items);
      described.push(source.described);
      if (i > 0 && i % Math.max(1, Math.floor(sourceCount / PLANTED)) === 0) {
        const { vector, record } = source.items.sentences[i % SENTENCES_PER_SOURCE]!;
        planted.push({ vector, record });
      }
    }
    await writer.commit(manifestOf(described));
  }),
);

// One article changed: every other source is carried over.
const changed = syntheticSource(0, texts, next, 1);
const update = await timed(() =>
  store.exclusive(async () => {
    const writer = await store.begin(SETTINGS);
    for (const source of described.slice(1)) await writer.carryOver(source.id);
    await writer.put(changed.items);
    await writer.commit(manifestOf([changed.described, ...described.slice(1)]));
  }),
);

const rssBeforeLoad = process.memoryUsage().rss;
let reader: Awaited<ReturnType<IndexStore['open']>>;
const load = await timed(async () => {
  reader = await store.open();
});
global.gc?.();
const servingRss = process.memoryUsage().rss;

const rankers = fittedModels();
const queryRandom = random(7);
/**
 * A question as the model places one: near some sentence (cosine about 0.7 to it), not a random
 * direction, which is far from everything alike and leaves no nearest sentences to find.
 */
function question(): { vector: Float32Array; near: SentenceRecord } {
  const { vector: own, record } = planted[Math.floor(queryRandom() * planted.length)]!;
  const noise = unitVector(queryRandom);
  const vector = own.map((value, d) => value + noise[d]!);
  const norm = Math.hypot(...vector);
  return { vector: vector.map((value) => value / norm), near: record };
}
const latencies: number[] = [];
let found = 0;
for (let q = 0; q < options.queries; q++) {
  const text = texts[Math.floor(queryRandom() * texts.length)]!;
  const { vector, near } = question();
  const began = performance.now();
  // Synthetic sentences have no word pieces: this times the first pass (`npm run bench` times the whole, with the model).
  await search(reader!, text, { vector }, rankers);
  latencies.push(performance.now() - began);
  const candidates = await reader!.nearest(vector, 100);
  if (candidates.some((hit) => hit.sentence.sourceId === near.sourceId && hit.sentence.sentence === near.sentence)) found++;
}
latencies.sort((a, b) => a - b);

const result = {
  store: options.store,
  sentences: sourceCount * SENTENCES_PER_SOURCE,
  chunks: described.reduce((sum, source) => sum + source.chunks, 0),
  sources: sourceCount,
  writeSeconds: write.seconds,
  writeLongestBlockMs: write.longestBlockMs,
  oneChangedSeconds: update.seconds,
  oneChangedLongestBlockMs: update.longestBlockMs,
  loadSeconds: load.seconds,
  loadLongestBlockMs: load.longestBlockMs,
  blockAtSeconds: [write.blockAtSeconds, update.blockAtSeconds, load.blockAtSeconds],
  longestGcMs: [write.longestGcMs, update.longestGcMs, load.longestGcMs],
  stalls: [write.stalls, update.stalls, load.stalls],
  machineStalls: [write.machineStalls, update.machineStalls, load.machineStalls],
  busyShare: [write.busyShare, update.busyShare, load.busyShare],
  queryP50Ms: quantile(latencies, 0.5),
  queryP95Ms: quantile(latencies, 0.95),
  firstStage: reader instanceof MemoryIndex ? reader.firstStage : 'hnsw',
  foundShare: found / options.queries,
  servingRssMiB: servingRss / 1024 / 1024,
  rssBeforeLoadMiB: rssBeforeLoad / 1024 / 1024,
  diskMiB: postgres ? undefined : (await directoryBytes(work)) / 1024 / 1024,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await reader!.close();
await store.close();
await postgres?.stop();
await rm(work, { recursive: true, force: true });
probe.stop();
