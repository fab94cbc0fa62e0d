import path from 'node:path';
import { readCurrentGeneration } from './generations.ts';
import { readGeneration, type Generation } from './store.ts';

/**
 * The generation readers should use, or undefined when nothing was ever built.
 * A re-index may retire a generation between reading CURRENT and loading it, so a vanished
 * folder means "read CURRENT again".
 */
export async function openIndex(indexDir: string): Promise<Generation | undefined> {
  for (let attempt = 0; ; attempt++) {
    const current = await readCurrentGeneration(indexDir);
    if (current === undefined) return undefined;
    try {
      return await readGeneration(path.join(indexDir, current));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw error;
    }
  }
}
