import { describe, expect, it } from 'vitest';
import { diffSources, MANIFEST_VERSION, type IndexSettings, type IndexedSource, type Manifest } from '../../src/index/manifest.ts';
import type { SourceDocument, SourceProblem } from '../../src/sources/types.ts';

const settings: IndexSettings = { modelId: 'model-a', dimensions: 384, chunkerVersion: 2, chunkMaxTokens: 256, overlapSentences: 1 };

const doc = (id: string, hash: string): SourceDocument => ({ id, path: `sources/${id}`, title: id, text: `text of ${id}`, bodyStart: 0, hash });
const indexed = (id: string, hash: string): IndexedSource => ({
  id,
  path: `sources/${id}`,
  title: id,
  hash,
  chunks: 2,
  sentences: 5,
  indexedAt: '2025-01-01T00:00:00.000Z',
});
const problem = (id: string): SourceProblem => ({ id, path: `sources/${id}`, reason: 'is not valid UTF-8 text' });

const previous: Manifest = {
  version: MANIFEST_VERSION,
  settings,
  builtAt: '2025-01-01T00:00:00.000Z',
  sources: [indexed('same.md', 'h-same'), indexed('edited.md', 'h-old'), indexed('deleted.md', 'h-del'), indexed('now-broken.md', 'h-broken')],
};

const ids = (items: readonly { id: string }[]) => items.map((item) => item.id).sort();

describe('diffSources', () => {
  it('adds everything on a first build', () => {
    const diff = diffSources(undefined, settings, [doc('a.md', '1'), doc('b.md', '2')], [problem('c.md')]);
    expect(diff.rebuildReason).toBeUndefined();
    expect(ids(diff.added)).toEqual(['a.md', 'b.md']);
    expect([diff.changed, diff.unchanged, diff.kept, diff.removed]).toEqual([[], [], [], []]);
  });

  it('sorts sources into unchanged, changed, added, removed and kept by hash and id', () => {
    const documents = [doc('same.md', 'h-same'), doc('edited.md', 'h-new'), doc('new.md', 'h-x')];
    const diff = diffSources(previous, settings, documents, [problem('now-broken.md'), problem('never-indexed.md')]);
    expect(diff.rebuildReason).toBeUndefined();
    expect(ids(diff.unchanged)).toEqual(['same.md']);
    expect(diff.unchanged[0]).toBe(previous.sources[0]);
    expect(ids(diff.changed)).toEqual(['edited.md']);
    expect(diff.changed[0]!.hash).toBe('h-new');
    expect(ids(diff.added)).toEqual(['new.md']);
    expect(ids(diff.removed)).toEqual(['deleted.md']);
    // A source that was indexed but now fails to load keeps its previous version rather than vanish.
    expect(ids(diff.kept)).toEqual(['now-broken.md']);
    expect(diff.kept[0]!.hash).toBe('h-broken');
  });

  it('reuses every source when nothing changed', () => {
    const documents = previous.sources.map((s) => doc(s.id, s.hash));
    const diff = diffSources(previous, settings, documents, []);
    expect(diff.rebuildReason).toBeUndefined();
    expect(ids(diff.unchanged)).toEqual(ids(previous.sources));
    expect([diff.added, diff.changed, diff.kept, diff.removed]).toEqual([[], [], [], []]);
  });

  it.each([
    ['modelId', { modelId: 'model-b' }, /embedding model changed \(model-a → model-b\)/],
    ['dimensions', { dimensions: 768 }, /embedding size changed \(384 → 768\)/],
    ['chunkerVersion', { chunkerVersion: 3 }, /chunker changed \(version 2 → 3\)/],
    ['chunkMaxTokens', { chunkMaxTokens: 128 }, /chunk size changed \(256 → 128 tokens\)/],
    ['overlapSentences', { overlapSentences: 2 }, /chunk overlap changed \(1 → 2 sentences\)/],
  ])('rebuilds everything when %s changes', (_name, change, reason) => {
    const documents = [doc('same.md', 'h-same'), doc('edited.md', 'h-new')];
    const diff = diffSources(previous, { ...settings, ...change }, documents, [problem('now-broken.md')]);
    expect(diff.rebuildReason).toMatch(reason);
    expect(ids(diff.added)).toEqual(['edited.md', 'same.md']);
    expect(diff.unchanged).toEqual([]);
    expect(diff.changed).toEqual([]);
    // Old vectors are incomparable, so a broken file cannot keep them.
    expect(diff.kept).toEqual([]);
    expect(ids(diff.removed)).toEqual(['deleted.md', 'now-broken.md']);
  });

  it('rebuilds everything when the manifest format changed', () => {
    const diff = diffSources({ ...previous, version: MANIFEST_VERSION + 1 }, settings, [doc('same.md', 'h-same')], []);
    expect(diff.rebuildReason).toMatch(/index format changed/);
    expect(ids(diff.added)).toEqual(['same.md']);
    expect(diff.unchanged).toEqual([]);
  });

  it('rebuilds everything on --force, saying so', () => {
    const diff = diffSources(previous, settings, [doc('same.md', 'h-same')], [], true);
    expect(diff.rebuildReason).toMatch(/--force/);
    expect(ids(diff.added)).toEqual(['same.md']);
    expect(diff.unchanged).toEqual([]);
  });

  it('keeps a source whose file is unreadable just now under --force (its vectors are still valid)', () => {
    const diff = diffSources(previous, settings, [doc('same.md', 'h-same')], [problem('now-broken.md')], true);
    expect(diff.rebuildReason).toMatch(/--force/);
    expect(ids(diff.kept)).toEqual(['now-broken.md']);
    expect(ids(diff.removed)).toEqual(['deleted.md', 'edited.md']);
    // Not when the settings changed: its vectors no longer fit the new index.
    const changedSettings = diffSources(previous, { ...settings, overlapSentences: 2 }, [doc('same.md', 'h-same')], [problem('now-broken.md')], true);
    expect(changedSettings.kept).toEqual([]);
    expect(changedSettings.rebuildReason).toMatch(/overlap/);
  });

  it('keeps every source under a folder that cannot be read', () => {
    const nested: Manifest = {
      ...previous,
      sources: [...previous.sources, indexed('team/a.md', 'h-a'), indexed('team/b.md', 'h-b'), indexed('teamwork.md', 'h-t')],
    };
    const folder: SourceProblem = { id: 'team/', path: 'sources/team', reason: 'is a folder that cannot be read (EACCES)', folder: true };
    const diff = diffSources(nested, settings, [doc('same.md', 'h-same')], [folder]);
    expect(ids(diff.kept)).toEqual(['team/a.md', 'team/b.md']);
    expect(ids(diff.removed)).toEqual(['deleted.md', 'edited.md', 'now-broken.md', 'teamwork.md']);
  });

  it('treats force on a first build as a plain first build', () => {
    const diff = diffSources(undefined, settings, [doc('a.md', '1')], [], true);
    expect(ids(diff.added)).toEqual(['a.md']);
    expect(diff.removed).toEqual([]);
  });
});
