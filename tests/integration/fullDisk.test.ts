/**
 * A full disk, for real: the index folder is a 2 MiB tmpfs, which the seeds fit in and two wiki
 * articles do not. Mounting needs root (as CI and this machine have); elsewhere the test is skipped.
 */
import { execFileSync } from 'node:child_process';
import { cp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, runCli, seededSourcesDir, tempDir, WIKI_ARTICLES } from './helpers.ts';

function mountTmpfs(folder: string, size: string, remount = false): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', remount ? `remount,size=${size}` : `size=${size}`, 'tmpfs', folder], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const probe = tempDir('full-disk-probe');
const canMount = mountTmpfs(probe, '1m');
if (canMount) execFileSync('umount', [probe]);

describe.skipIf(!canMount)('a full disk while re-indexing', () => {
  let indexDir: string;
  let sourcesDir: string;
  beforeAll(async () => {
    sourcesDir = await seededSourcesDir('full-disk');
    indexDir = tempDir('full-disk-index');
    mountTmpfs(indexDir, '2m');
  });
  afterAll(() => {
    execFileSync('umount', [indexDir]);
    removeTempDirs();
  });

  it('is reported in one line, leaves no partial files, keeps the index in use, and works again once space is freed', async () => {
    const first = await runCli(['index', '--sources', sourcesDir, '--index', indexDir]);
    expect(first.code, first.stderr).toBe(0);
    const before = (await readdir(path.join(indexDir, 'shards'))).sort();

    const articles = (await readdir(WIKI_ARTICLES)).slice(0, 2);
    for (const article of articles) await cp(path.join(WIKI_ARTICLES, article), path.join(sourcesDir, article));
    const full = await runCli(['index', '--sources', sourcesDir, '--index', indexDir]);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(
      /^docent: Could not write .*: the disk is full \(\d+ MiB free\)\. Free some space and re-index; the index in use is unchanged\.$/m,
    );
    expect(full.stderr).not.toMatch(/\n\s+at /);
    // The failed write's shards and generation folder are gone, so the space is free again.
    expect((await readdir(path.join(indexDir, 'shards'))).sort()).toEqual(before);
    expect((await readdir(indexDir)).filter((name) => name.startsWith('gen-'))).toHaveLength(1);

    const asked = await runCli(['ask', '--json', '--sources', sourcesDir, '--index', indexDir, 'Who led the talks in Istanbul?']);
    expect(asked.code, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout).quotes[0].text).toContain('Darchiev');

    mountTmpfs(indexDir, '64m', true);
    const again = await runCli(['index', '--sources', sourcesDir, '--index', indexDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^\s*added:\s+2 \(/m);
  });
});
