import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newGenerationName, publishGeneration, readCurrentGeneration, removeStaleGenerations } from '../../src/index/vectra/generations.ts';
import { IndexBusyError, withIndexLock } from '../../src/index/lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'docent-index-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generations', () => {
  it('names generations uniquely with a sortable timestamp', () => {
    const when = new Date('2025-04-10T12:34:56.789Z');
    const a = newGenerationName(when);
    const b = newGenerationName(when);
    expect(a).toMatch(/^gen-20250410T123456-[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
  });

  it('reads back what was published, replacing the pointer without leaving temp files', async () => {
    expect(await readCurrentGeneration(dir)).toBeUndefined();
    await publishGeneration(dir, 'gen-1');
    expect(await readCurrentGeneration(dir)).toBe('gen-1');
    await publishGeneration(dir, 'gen-2');
    expect(await readCurrentGeneration(dir)).toBe('gen-2');
    expect(await readFile(path.join(dir, 'CURRENT'), 'utf8')).toBe('gen-2\n');
    expect(await readdir(dir)).toEqual(['CURRENT']);
  });

  it('is undefined for a missing index folder', async () => {
    expect(await readCurrentGeneration(path.join(dir, 'nope'))).toBeUndefined();
  });

  it.each(['garbage', '../../etc/passwd', 'gen-1/../../x', ''])('rejects a pointer holding %j', async (content) => {
    await writeFile(path.join(dir, 'CURRENT'), content);
    expect(await readCurrentGeneration(dir)).toBeUndefined();
  });

  it('accepts a pointer with surrounding whitespace', async () => {
    await writeFile(path.join(dir, 'CURRENT'), '  gen-abc \r\n');
    expect(await readCurrentGeneration(dir)).toBe('gen-abc');
  });

  it('removes stale generations and leftover temp pointers, keeping the named ones', async () => {
    for (const name of ['gen-old', 'gen-prev', 'gen-cur', 'gen-crashed']) {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, 'index.json'), '{}');
    }
    await writeFile(path.join(dir, 'CURRENT.1234.tmp'), 'gen-crashed\n');
    await writeFile(path.join(dir, 'notes.txt'), 'keep me');
    await mkdir(path.join(dir, 'other'));
    await publishGeneration(dir, 'gen-cur');

    const removed = await removeStaleGenerations(dir, ['gen-cur', 'gen-prev']);
    expect(removed.sort()).toEqual(['CURRENT.1234.tmp', 'gen-crashed', 'gen-old']);
    expect((await readdir(dir)).sort()).toEqual(['CURRENT', 'gen-cur', 'gen-prev', 'notes.txt', 'other']);
    expect(await readCurrentGeneration(dir)).toBe('gen-cur');
  });

  it('creates the index folder if needed and removes nothing from an empty one', async () => {
    const fresh = path.join(dir, 'fresh');
    expect(await removeStaleGenerations(fresh, [])).toEqual([]);
    expect((await stat(fresh)).isDirectory()).toBe(true);
  });
});

describe('withIndexLock', () => {
  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  it('lets one re-index run at a time and fails a second at once', async () => {
    const gate = deferred();
    const started = deferred();
    const first = withIndexLock(dir, async () => {
      started.resolve();
      await gate.promise;
      return 'first done';
    });
    await started.promise;
    let ran = false;
    const second = withIndexLock(dir, async () => {
      ran = true;
    });
    await expect(second).rejects.toBeInstanceOf(IndexBusyError);
    await expect(second).rejects.toThrow(/Another re-index of .* is running/);
    expect(ran).toBe(false);
    gate.resolve();
    expect(await first).toBe('first done');
  });

  it('releases the lock after the work, and after the work throws', async () => {
    expect(await withIndexLock(dir, async () => 1)).toBe(1);
    expect(await withIndexLock(dir, async () => 2)).toBe(2);
    await expect(
      withIndexLock(dir, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await withIndexLock(dir, async () => 3)).toBe(3);
    expect(await readdir(dir)).not.toContain('.reindex.lock');
  });

  it('does not block re-indexes of different folders', async () => {
    const gate = deferred();
    const started = deferred();
    const a = withIndexLock(path.join(dir, 'a'), async () => {
      started.resolve();
      await gate.promise;
    });
    await started.promise;
    expect(await withIndexLock(path.join(dir, 'b'), async () => 'b ran')).toBe('b ran');
    gate.resolve();
    await a;
  });

  it('creates a missing index folder', async () => {
    const fresh = path.join(dir, 'new', 'index');
    await withIndexLock(fresh, async () => undefined);
    expect((await stat(fresh)).isDirectory()).toBe(true);
  });
});
