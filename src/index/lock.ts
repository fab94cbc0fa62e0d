import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';

export class IndexBusyError extends Error {
  override name = 'IndexBusyError';
  constructor(
    readonly location: string,
    /** How long the lock of a re-index that crashed holds out. */
    readonly releasedAfterSeconds = STALE_MS / 1000,
  ) {
    super(`Another re-index of ${location} is running.`);
  }
}

/** A holder that died (even by kill -9) stops refreshing the lock, which then goes stale. */
const STALE_MS = 10_000;

/** Runs `work` as the only re-index of `indexDir`; a second one fails at once with IndexBusyError. */
export async function withIndexLock<T>(indexDir: string, work: () => Promise<T>): Promise<T> {
  await mkdir(indexDir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(indexDir, {
      lockfilePath: path.join(indexDir, '.reindex.lock'),
      stale: STALE_MS,
      retries: 0,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') throw new IndexBusyError(indexDir);
    throw error;
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
