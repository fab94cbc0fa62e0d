/** The graph thread (see ann.ts): writes one generation's HNSW graph and reports back, or serves searches of one. */
import { parentPort, workerData } from 'node:worker_threads';
import { type AnnTask, serveAnn, writeAnn } from './ann.ts';
import { lowerThreadPriority } from './threadPriority.ts';

/**
 * The niceness a graph write runs at. Writing a million sentences' graph keeps a core busy for
 * twenty minutes; at normal priority it competed with the thread that answers (and that thread's
 * garbage collection) whenever both wanted the same core. The threads USearch adds with inherit it.
 */
const WRITE_NICENESS = 19;

const task = workerData as AnnTask;
if (task.task === 'serve') {
  serveAnn(task.folder, task.dimensions, parentPort!);
} else {
  lowerThreadPriority(WRITE_NICENESS);
  try {
    await writeAnn(task.folder, task.dimensions, task.shards, task.previous);
    parentPort!.postMessage({ done: true });
  } catch (error) {
    // A write failure (a full disk, say) keeps its code, so the store can word it.
    parentPort!.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
}
