/** The graph-writing process (see ann.ts): writes one generation's HNSW graph and reports back. */
import { type AnnWriteTask, writeAnn } from './ann.ts';

// The store that asked is gone (killed, say), or has its answer: nothing more will be asked.
process.on('disconnect', () => process.exit(0));
process.once('message', (task: AnnWriteTask) => {
  writeAnn(task.folder, task.dimensions, task.shards, task.previous).then(
    () => process.send!({ done: true }),
    // A write failure (a full disk, say) goes back in words, so the store can word it.
    (error: unknown) => process.send!({ failed: error instanceof Error ? error.message : String(error) }),
  );
});
