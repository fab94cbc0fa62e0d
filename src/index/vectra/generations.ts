import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfPresent } from './files.ts';

/**
 * An index folder holds complete generations side by side and a CURRENT file naming the one
 * readers use. A new generation becomes visible only through an atomic rename of CURRENT,
 * so a reader never sees a half-built index and a killed build leaves the old one serving.
 */
const POINTER = 'CURRENT';
const GENERATION_PREFIX = 'gen-';

export function newGenerationName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..+/, '');
  return `${GENERATION_PREFIX}${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function readCurrentGeneration(indexDir: string): Promise<string | undefined> {
  const name = (await readTextIfPresent(path.join(indexDir, POINTER)))?.trim();
  return name?.startsWith(GENERATION_PREFIX) && !name.includes('/') ? name : undefined;
}

/** Points readers at `generation`; durable before it is visible. */
export async function publishGeneration(indexDir: string, generation: string): Promise<void> {
  const temporary = path.join(indexDir, `${POINTER}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(`${generation}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path.join(indexDir, POINTER));
  // The rename itself is durable only once the folder holding it is flushed.
  await syncPath(indexDir);
}

/** Flushes a file or folder to the disk. */
export async function syncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes every file under `folder`, the folders holding them, and `folder` itself. */
export async function syncTree(folder: string): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const target = path.join(folder, entry.name);
    if (entry.isDirectory()) await syncTree(target);
    else await syncPath(target);
  }
  await syncPath(folder);
}

/**
 * Removes generations no reader should still open: all but the current and the one before it
 * (a reader that read CURRENT just before the swap may still be loading that one).
 */
export async function removeStaleGenerations(indexDir: string, keep: readonly string[]): Promise<string[]> {
  await mkdir(indexDir, { recursive: true });
  const stale = (await readdir(indexDir)).filter((name) => (name.startsWith(GENERATION_PREFIX) || name.startsWith(`${POINTER}.`)) && !keep.includes(name));
  await Promise.all(stale.map((name) => rm(path.join(indexDir, name), { recursive: true, force: true })));
  return stale;
}
