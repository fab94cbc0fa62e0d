import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** A question the sources did not answer with confidence. */
export interface GapEntry {
  readonly at: string;
  readonly question: string;
  /** `declined`: nothing related was found; `low`: only passages that may not answer it. */
  readonly outcome: 'declined' | 'low';
  /** The best candidate's ranking score (a log-odds; higher is closer). */
  readonly bestScore: number;
  /** Who asked, as a salted hash (as in the feedback log), when a front end knows. */
  readonly asker?: string;
}

export async function appendGap(file: string, entry: GapEntry): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(entry)}\n`);
}

/** JSON-lines entries of a log, skipping lines that are not whole objects (a line cut short by a crash). */
export async function readJsonLines<T extends object>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const entries: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object') entries.push(value as T);
    } catch {
      // A torn last line is skipped rather than failing the whole report.
    }
  }
  return entries;
}
