import { hostname } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { isProcessAlive } from '../processes.ts';

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

/**
 * A holder refreshes the lock every UPDATE_MS; one that stops (killed, or stalled that long) loses
 * it after STALE_MS. A holder on this machine whose process is gone loses it at once.
 */
const STALE_MS = 10_000;
const UPDATE_MS = 2_000;
const LOCK_FILE = '.reindex.lock';
const OWNER_FILE = '.reindex.owner';

interface Owner {
  readonly pid: number;
  readonly host: string;
}

/** True when the lock's holder provably died: it ran on this machine and its process is gone. */
async function holderIsDead(indexDir: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await readFile(path.join(indexDir, OWNER_FILE), 'utf8')) as Owner;
    return owner.host === hostname() && Number.isInteger(owner.pid) && owner.pid !== process.pid && !isProcessAlive(owner.pid);
  } catch {
    return false;
  }
}

export interface LockHandle {
  /** False once another process took the lock over (this one stalled past STALE_MS): it must not publish. */
  held(): boolean;
}

/** Runs `work` as the only re-index of `indexDir`; a second one fails at once with IndexBusyError. */
export async function withIndexLock<T>(indexDir: string, work: (lock: LockHandle) => Promise<T>): Promise<T> {
  await mkdir(indexDir, { recursive: true });
  const lockfilePath = path.join(indexDir, LOCK_FILE);
  let compromised = false;
  const options = {
    lockfilePath,
    stale: STALE_MS,
    update: UPDATE_MS,
    retries: 0,
    // proper-lockfile throws from a timer unless told what to do: this writer stops publishing instead.
    onCompromised: () => {
      compromised = true;
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(indexDir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    if (!(await holderIsDead(indexDir))) throw new IndexBusyError(indexDir);
    await rm(lockfilePath, { recursive: true, force: true });
    try {
      release = await lockfile.lock(indexDir, options);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw new IndexBusyError(indexDir);
      throw again;
    }
  }
  await writeFile(path.join(indexDir, OWNER_FILE), JSON.stringify({ pid: process.pid, host: hostname() } satisfies Owner));
  try {
    return await work({ held: () => !compromised });
  } finally {
    if (!compromised) {
      await rm(path.join(indexDir, OWNER_FILE), { force: true });
      await release().catch(() => undefined);
    }
  }
}
