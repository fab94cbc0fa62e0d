import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readKeywordCounts, writeKeywordCounts } from '../../src/index/vectra/keywordCounts.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'docent-keyword-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a generation’s keyword counts file', () => {
  it('reads back what was written, across many slices, leaving out terms no sentence holds', async () => {
    const file = path.join(dir, 'terms.tsv');
    const counts = new Map(Array.from({ length: 45_000 }, (_, i) => [`term${i}`, (i % 7) + 1] as const));
    await writeKeywordCounts(file, new Map([...counts, ['gone', 0]]));
    expect(await readKeywordCounts(file)).toEqual(counts);
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(45_001);
  });

  it('is undefined when there is no file, and empty for a corpus without keywords', async () => {
    expect(await readKeywordCounts(path.join(dir, 'absent.tsv'))).toBeUndefined();
    await writeKeywordCounts(path.join(dir, 'empty.tsv'), new Map());
    expect(await readKeywordCounts(path.join(dir, 'empty.tsv'))).toEqual(new Map());
  });

  it('refuses a keyword it could not read back', async () => {
    await expect(writeKeywordCounts(path.join(dir, 'bad.tsv'), new Map([['a\tb', 1]]))).rejects.toThrow(/holds a tab or newline/);
  });
});
