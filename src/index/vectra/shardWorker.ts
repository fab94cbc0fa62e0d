/** The shard-writing thread (see shardThread.ts): writes each shard it is sent, flushes it to disk, and reports back. */
import { parentPort } from 'node:worker_threads';
import { type ShardReply, type ShardRequest, unpackItems, writeShardDurably } from './shardThread.ts';

parentPort!.on('message', ({ id, folder, items }: ShardRequest) => {
  writeShardDurably(folder, unpackItems(items)).then(
    () => parentPort!.postMessage({ id } satisfies ShardReply),
    // The error's code (ENOSPC, say) goes back with it, so the store can word a full disk.
    (error: unknown) =>
      parentPort!.postMessage({
        id,
        failed: error instanceof Error ? error.message : String(error),
        code: (error as NodeJS.ErrnoException).code,
      } satisfies ShardReply),
  );
});
