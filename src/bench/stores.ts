import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stderrLog } from '../cli/context.ts';

/** One line of storeScale.ts's output. */
interface StoreFigures {
  readonly store: string;
  readonly sentences: number;
  readonly chunks: number;
  readonly writeSeconds: number;
  readonly writeLongestBlockMs: number;
  readonly oneChangedSeconds: number;
  readonly oneChangedLongestBlockMs: number;
  readonly loadSeconds: number;
  readonly loadLongestBlockMs: number;
  /** Per phase (write, 1 changed, load): when the longest block ended, in seconds from the phase's start. */
  readonly blockAtSeconds: readonly number[];
  /** Per phase: the longest garbage-collection pause, in ms. */
  readonly longestGcMs: readonly number[];
  /** Per phase: every stall of 50 ms or more, as [ms, seconds into the phase]. */
  readonly stalls: readonly (readonly [number, number][])[];
  /** The same, for an idle process beside it: the machine's own stalls (idleProbe.ts). */
  readonly machineStalls: readonly (readonly [number, number][])[];
  /** Per phase: the share of it the event loop was busy (`performance.eventLoopUtilization`). */
  readonly busyShare: readonly number[];
  readonly queryP50Ms: number;
  readonly queryP95Ms: number;
  readonly servingRssMiB: number;
  readonly diskMiB?: number;
  readonly firstStage: string;
  readonly foundShare: number;
}

const SCRIPT = fileURLToPath(new URL('./storeScale.ts', import.meta.url));

/**
 * Runs storeScale.ts in a process of its own, so its memory figures are its alone, with V8's
 * default heap limit as `npm start` runs the bot (a larger limit lets garbage pile up between
 * collections and changes the very stalls measured); `--expose-gc` only lets it collect before
 * reading the serving RSS.
 */
function measure(sentences: number, store: 'vectra' | 'postgres', articles: string): Promise<StoreFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--expose-gc', SCRIPT, '--sentences', String(sentences), '--store', store, '--articles', articles],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the ${store} bench at ${sentences} sentences exited with code ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as StoreFigures);
    });
  });
}

const listed = (stalls: readonly (readonly [number, number])[]) => stalls.map(([ms, at]) => `${ms}@${at}`).join(' ') || 'none';

const cell = (value: number | undefined, digits: number, width: number) => (value === undefined ? '—' : value.toFixed(digits)).padStart(width);

/** `npm run bench -- --scale …`: the store-level curve, one fresh process per size and store. */
export async function benchStores(sizes: readonly number[], postgresSizes: readonly number[], articles: string): Promise<void> {
  const runs: StoreFigures[] = [];
  for (const size of sizes) {
    stderrLog(`Vectra store, ${size.toLocaleString('en')} sentences…`);
    runs.push(await measure(size, 'vectra', path.resolve(articles)));
  }
  for (const size of postgresSizes) {
    stderrLog(`PostgreSQL store (PGlite), ${size.toLocaleString('en')} sentences…`);
    runs.push(await measure(size, 'postgres', path.resolve(articles)));
  }
  const lines = [
    'Store figures on a synthetic corpus (new_wiki sentence texts cycled, random unit vectors; 170 sentences per article).',
    'write = first full write; 1 changed = re-index after one changed article; block = longest event-loop stall while writing, re-indexing or loading (not shown for PGlite, which runs',
    'inside the measured process); query = ranking without embedding, for a question vector made near a stored sentence (cosine about 0.7);',
    'first = how candidates are found (every sentence scored, or the HNSW graph of a large Vectra index); found = share of the questions whose',
    'sentence is among the 100 candidates (random vectors have no neighbourhoods, so this, not recall of the exact 100, is what can be checked here).',
    '',
    `${'store'.padEnd(10)} ${'sentences'.padStart(10)} ${'items'.padStart(10)} ${'write s'.padStart(8)} ${'block ms'.padStart(8)} ${'1 changed s'.padStart(11)} ${'load s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'RSS MiB'.padStart(8)} ${'disk MiB'.padStart(8)} ${'first'.padStart(6)} ${'found'.padStart(6)}`,
    ...runs.map(
      (run) =>
        `${run.store.padEnd(10)} ${run.sentences.toLocaleString('en').padStart(10)} ${(2 * run.sentences + run.chunks).toLocaleString('en').padStart(10)} ${cell(run.writeSeconds, 1, 8)} ${cell(run.store === 'postgres' ? undefined : Math.max(run.writeLongestBlockMs, run.oneChangedLongestBlockMs, run.loadLongestBlockMs), 0, 8)} ${cell(run.oneChangedSeconds, 2, 11)} ${cell(run.loadSeconds, 1, 7)} ${cell(run.queryP50Ms, 1, 7)} ${cell(run.queryP95Ms, 1, 7)} ${cell(run.servingRssMiB, 0, 8)} ${cell(run.diskMiB, 0, 8)} ${run.firstStage.padStart(6)} ${`${(100 * run.foundShare).toFixed(0)}%`.padStart(6)}`,
    ),
    '',
    'block by phase (write / 1 changed / load, ms), when it ended (s into the phase), the longest garbage-collection pause (ms), and the share',
    'of the phase the thread that answers questions was busy (the rest it was free to answer):',
    ...runs
      .filter((run) => run.store !== 'postgres')
      .map(
        (run) =>
          `  ${run.store} ${run.sentences.toLocaleString('en')}: ${[run.writeLongestBlockMs, run.oneChangedLongestBlockMs, run.loadLongestBlockMs].map((ms) => ms.toFixed(0)).join(' / ')}` +
          `  (at ${run.blockAtSeconds.map((s) => s.toFixed(1)).join(' / ')} s; longest GC ${run.longestGcMs.map((ms) => ms.toFixed(0)).join(' / ')} ms;` +
          ` busy ${run.busyShare.map((share) => `${(100 * share).toFixed(0)}%`).join(' / ')})`,
      ),
    '',
    'stalls of 50 ms or more by phase (ms at s into the phase); after "machine", those an idle process beside the bench had too, which are the',
    "machine's (the virtual machine paused or the host busy), not Docent's:",
    ...runs
      .filter((run) => run.store !== 'postgres')
      .flatMap((run) =>
        ['write', '1 changed', 'load'].map(
          (phase, i) => `  ${run.store} ${run.sentences.toLocaleString('en')} ${phase}: ${listed(run.stalls[i]!)}; machine: ${listed(run.machineStalls[i]!)}`,
        ),
      ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
