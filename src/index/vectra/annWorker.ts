/** The graph thread (see ann.ts): writes one generation's HNSW graph and reports back, or serves searches of one. */
import { parentPort, workerData } from 'node:worker_threads';
import { type AnnTask, serveAnn, writeAnn } from './ann.ts';

const task = workerData as AnnTask;
if (task.task === 'serve') {
  serveAnn(task.folder, task.dimensions, parentPort!);
} else {
  try {
    await writeAnn(task.folder, task.dimensions, task.shards, task.previous);
    parentPort!.postMessage({ done: true });
  } catch (error) {
    // A write failure (a full disk, say) keeps its code, so the store can word it.
    parentPort!.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
}
