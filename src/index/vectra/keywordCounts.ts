import { writeFile } from 'node:fs/promises';
import { yieldToEventLoop } from '../store.ts';
import { readTextIfPresent } from './files.ts';

/**
 * A generation's keyword counts summed over its shards (what IDF is computed from), as a text file
 * of one `term<TAB>count` line per term, read and written a slice at a time. As one JSON object,
 * 13,000 terms took 38 ms in one piece to parse, check and map, and the vocabulary of a real
 * corpus grows with it: a slice at a time, no corpus holds the event loop for long.
 */
const LINES_PER_TURN = 20_000;

export class KeywordCountsError extends Error {
  override name = 'KeywordCountsError';
}

/** Reads `file` into a map, or undefined when there is no such file. */
export async function readKeywordCounts(file: string): Promise<Map<string, number> | undefined> {
  const text = await readTextIfPresent(file);
  if (text === undefined) return undefined;
  const counts = new Map<string, number>();
  let line = 0;
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    if (end < 0) throw new KeywordCountsError(`${file} ends without a newline: it was cut short`);
    const tab = text.indexOf('\t', start);
    const count = tab > start && tab < end ? Number(text.slice(tab + 1, end)) : Number.NaN;
    line++;
    if (!Number.isInteger(count) || count <= 0) throw new KeywordCountsError(`${file}, line ${line}: not a term, a tab and a count`);
    counts.set(text.slice(start, tab), count);
    start = end + 1;
    if (line % LINES_PER_TURN === 0) await yieldToEventLoop();
  }
  return counts;
}

/** Writes the terms of `counts` whose count is above zero (a term no sentence holds any more is left out). */
export async function writeKeywordCounts(file: string, counts: ReadonlyMap<string, number>): Promise<void> {
  const slices: string[] = [];
  let lines: string[] = [];
  for (const [term, count] of counts) {
    if (count <= 0) continue;
    if (/[\t\n]/.test(term)) throw new KeywordCountsError(`The keyword ${JSON.stringify(term)} holds a tab or newline and cannot be written to ${file}`);
    lines.push(`${term}\t${count}\n`);
    if (lines.length === LINES_PER_TURN) {
      slices.push(lines.join(''));
      lines = [];
      await yieldToEventLoop();
    }
  }
  slices.push(lines.join(''));
  await writeFile(file, slices);
}
