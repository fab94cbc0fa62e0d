/** Writes one generation's HNSW graph (see ann.ts) and reports back; started by `writeAnnOffThread`. */
import { parentPort, workerData } from 'node:worker_threads';
import { type AnnShard, writeAnn } from './ann.ts';

const { folder, dimensions, shards, previous } = workerData as { folder: string; dimensions: number; shards: AnnShard[]; previous: string | undefined };
try {
  await writeAnn(folder, dimensions, shards, previous);
  parentPort!.postMessage({ done: true });
} catch (error) {
  // A write failure (a full disk, say) keeps its code, so the store can word it.
  parentPort!.postMessage({ failed: error instanceof Error ? error.message : String(error) });
}
