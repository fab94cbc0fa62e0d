/** Incremental re-indexing against real files, the real model and real Vectra generations. */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/types.ts';
import { openDocent, type Docent, type EngineEvent } from '../../src/docent.ts';
import type { Embedder } from '../../src/embeddings/embedder.ts';
import { IndexBusyError } from '../../src/index/lock.ts';
import { readCurrentGeneration } from '../../src/index/vectra/generations.ts';
import { VectraStore } from '../../src/index/vectra/vectraStore.ts';
import { reindex, type ReindexSummary } from '../../src/index/reindex.ts';
import { type EntityTagger, entityTaggerThread } from '../../src/index/tagThread.ts';
import { expectExactQuotes, loadTestEmbedder, removeTempDirs, SEED_FILES, seededSourcesDir, tempDir, testConfig } from './helpers.ts';

let embedder: Embedder;

beforeAll(async () => {
  embedder = await loadTestEmbedder();
});

afterAll(async () => {
  await embedder?.dispose();
  removeTempDirs();
});

const LIGHTHOUSE = `---
title: The Lighthouse at Port Elwin
date: 2024-06-01
---

# The Lighthouse at Port Elwin

The lighthouse at Port Elwin was built in 1871 from granite quarried on the island of Mersa.

Its keeper, Agnes Thornbury, tended the lamp for forty-two years and logged every passing ship.

The light was automated in 1968, and the keeper's cottage became a museum of maritime history.
`;
const LIGHTHOUSE_QUESTION = 'Who tended the lamp of the lighthouse at Port Elwin?';

const BEES = `# Rooftop Beekeeping in Oslo

Beekeepers in Oslo keep more than three hundred hives on the roofs of offices, hotels and the opera house.

The city's bee highway is a chain of flowering gardens and green roofs that lets pollinators cross the city.

A single rooftop hive can produce up to twenty kilograms of honey in a good summer.
`;
const BEES_QUESTION = 'How many beehives are kept on the roofs of Oslo?';

interface Setup {
  readonly sourcesDir: string;
  readonly indexDir: string;
  run(options?: { force?: boolean; overlapSentences?: number; tagger?: EntityTagger }): Promise<ReindexSummary>;
  open(): Promise<Docent>;
  current(): Promise<string>;
  generations(): Promise<string[]>;
}

/** A temp sources folder (the two seeds plus `extra` files) and an empty temp index folder. */
async function setup(label: string, extra: Record<string, string | Uint8Array> = {}): Promise<Setup> {
  const sourcesDir = await seededSourcesDir(label);
  for (const [name, content] of Object.entries(extra)) await writeFile(path.join(sourcesDir, name), content);
  const indexDir = tempDir(`${label}-index`);
  const config = testConfig(sourcesDir, indexDir);
  return {
    sourcesDir,
    indexDir,
    run: (options = {}) =>
      reindex({
        sourcesDir,
        store: new VectraStore(indexDir),
        maxSourceBytes: config.MAX_SOURCE_BYTES,
        overlapSentences: options.overlapSentences ?? config.CHUNK_OVERLAP_SENTENCES,
        embedder,
        tagger: options.tagger,
        force: options.force,
      }),
    open: () => openDocent(config, {}, embedder),
    current: async () => (await readFile(path.join(indexDir, 'CURRENT'), 'utf8')).trim(),
    generations: async () => (await readdir(indexDir)).filter((name) => name.startsWith('gen-')).sort(),
  };
}

async function ask(docent: Docent, question: string, texts?: ReadonlyMap<string, string>): Promise<Answer> {
  const answer = await docent.ask(question);
  expectExactQuotes(answer, texts);
  return answer;
}

const fromSource = (answer: Answer, id: string) => answer.quotes.filter((quote) => quote.source.id === id);

/** Every file under the index's shards folder, with when it was last written. */
async function shardFiles(indexDir: string): Promise<Map<string, number>> {
  const shards = path.join(indexDir, 'shards');
  const files = new Map<string, number>();
  for (const entry of await readdir(shards, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      files.set(path.relative(shards, path.join(entry.parentPath, entry.name)), (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return files;
}

async function manifestSource(indexDir: string, id: string) {
  const manifest = await new VectraStore(indexDir).readManifest();
  const source = manifest?.sources.find((entry) => entry.id === id);
  if (!source) throw new Error(`${id} is not in the index manifest`);
  return source;
}

describe('re-indexing', () => {
  it('tags entities on a thread of its own (as the bot does) exactly as on this one', async () => {
    const here = await setup('tags-here');
    const there = await setup('tags-there');
    await here.run();
    const tagger = entityTaggerThread();
    try {
      await there.run({ tagger });
    } finally {
      await tagger.close();
    }
    const entities = async (indexDir: string) => {
      const store = new VectraStore(indexDir);
      const index = await store.open();
      const found = index!.sentences.map((sentence) => [sentence.sourceId, sentence.sentence, sentence.entities] as const);
      await index!.close();
      await store.close();
      return found;
    };
    const tagged = await entities(there.indexDir);
    expect(tagged).toEqual(await entities(here.indexDir));
    expect(tagged.filter(([, , found]) => found.includes('P:'))).not.toHaveLength(0);
  });

  it('builds from scratch, then leaves an unchanged folder alone', async () => {
    const s = await setup('first');
    const first = await s.run();
    expect(first.added.sort()).toEqual([...SEED_FILES]);
    expect(first.changed).toEqual([]);
    expect(first.removed).toEqual([]);
    expect(first.unchanged).toEqual([]);
    expect(first.problems).toEqual([]);
    expect(first.rebuildReason).toBeUndefined();
    expect(first.updated).toBe(true);
    expect(first.chunksEmbedded).toBeGreaterThan(0);
    expect(first.sentencesEmbedded).toBeGreaterThan(first.chunksEmbedded);
    const current = await s.current();
    expect(await s.generations()).toEqual([current]);

    const second = await s.run();
    expect(second.updated).toBe(false);
    expect(second.added).toEqual([]);
    expect(second.changed).toEqual([]);
    expect(second.removed).toEqual([]);
    expect(second.unchanged.sort()).toEqual([...SEED_FILES]);
    expect(second.chunksEmbedded).toBe(0);
    expect(second.sentencesEmbedded).toBe(0);
    expect(await s.current()).toBe(current);
    expect(await s.generations()).toEqual([current]);
  });

  it('embeds only an added file, then a changed one, and forgets a deleted one', async () => {
    const s = await setup('incremental');
    await s.run();
    const docent = await s.open();
    const seedsBefore = await Promise.all(SEED_FILES.map((id) => manifestSource(s.indexDir, id)));
    expect(fromSource(await ask(docent, BEES_QUESTION), 'bees.md')).toEqual([]);

    // Added.
    await writeFile(path.join(s.sourcesDir, 'bees.md'), BEES);
    const added = await docent.reindex();
    expect(added.added).toEqual(['bees.md']);
    expect(added.changed).toEqual([]);
    expect(added.removed).toEqual([]);
    expect(added.unchanged.sort()).toEqual([...SEED_FILES]);
    const bees = await manifestSource(s.indexDir, 'bees.md');
    expect(bees.title).toBe('Rooftop Beekeeping in Oslo');
    expect(added.chunksEmbedded).toBe(bees.chunks);
    expect(added.sentencesEmbedded).toBe(bees.sentences);
    // The seeds were copied over, not re-embedded.
    const seedsAfter = await Promise.all(SEED_FILES.map((id) => manifestSource(s.indexDir, id)));
    expect(seedsAfter).toEqual(seedsBefore);
    const beesAnswer = await ask(docent, BEES_QUESTION);
    expect(beesAnswer.answered).toBe(true);
    expect(fromSource(beesAnswer, 'bees.md').some((quote) => quote.text.includes('three hundred hives'))).toBe(true);

    // Changed: the new wording is what gets quoted, and only bees.md's shard is written anew.
    const shardsBefore = await shardFiles(s.indexDir);
    await writeFile(path.join(s.sourcesDir, 'bees.md'), BEES.replace('more than three hundred hives', 'about four hundred and fifty hives'));
    const changed = await docent.reindex();
    const shardsAfter = await shardFiles(s.indexDir);
    const written = [...shardsAfter].filter(([file, mtime]) => shardsBefore.get(file) !== mtime).map(([file]) => file);
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((file) => file.startsWith('bees.md-'))).toBe(true);
    for (const seed of SEED_FILES)
      expect([...shardsAfter.keys()].filter((file) => file.startsWith(`${seed}-`))).toEqual(
        [...shardsBefore.keys()].filter((file) => file.startsWith(`${seed}-`)),
      );
    expect(changed.changed).toEqual(['bees.md']);
    expect(changed.added).toEqual([]);
    expect(changed.removed).toEqual([]);
    expect(changed.unchanged.sort()).toEqual([...SEED_FILES]);
    expect(changed.chunksEmbedded).toBe((await manifestSource(s.indexDir, 'bees.md')).chunks);
    const changedAnswer = await ask(docent, BEES_QUESTION);
    const beeQuotes = fromSource(changedAnswer, 'bees.md').map((quote) => quote.text);
    expect(beeQuotes.some((text) => text.includes('four hundred and fifty hives'))).toBe(true);
    expect(beeQuotes.some((text) => text.includes('three hundred hives'))).toBe(false);

    // Removed: none of its quotes come back, on any page.
    await rm(path.join(s.sourcesDir, 'bees.md'));
    const removed = await docent.reindex();
    expect(removed.removed).toEqual(['bees.md']);
    expect(removed.added).toEqual([]);
    expect(removed.changed).toEqual([]);
    expect(removed.chunksEmbedded).toBe(0);
    expect(removed.updated).toBe(true);
    expect(
      docent
        .sources()
        .sources.map((source) => source.id)
        .sort(),
    ).toEqual([...SEED_FILES]);
    for (let offset = 0; offset < 30; offset += 3) {
      const page = await docent.ask(BEES_QUESTION, { offset });
      expectExactQuotes(page);
      expect(fromSource(page, 'bees.md')).toEqual([]);
      if (!page.hasMore) break;
    }
    // Old generations are retired: only the serving one and the one before it remain.
    expect((await s.generations()).length).toBeLessThanOrEqual(2);
    expect(await s.generations()).toContain(await s.current());
  });

  it('keeps serving the previous version of a file that became unreadable', async () => {
    const s = await setup('kept', { 'lighthouse.md': LIGHTHOUSE });
    await s.run();
    const docent = await s.open();
    const lighthousePath = (await manifestSource(s.indexDir, 'lighthouse.md')).path;
    const before = await ask(docent, LIGHTHOUSE_QUESTION);
    expect(before.answered).toBe(true);
    expect(fromSource(before, 'lighthouse.md').some((quote) => quote.text.includes('Agnes Thornbury'))).toBe(true);

    // Invalid UTF-8 (a lone continuation byte and an overlong sequence) in the middle of the text.
    const bytes = Buffer.from(LIGHTHOUSE, 'utf8');
    await writeFile(path.join(s.sourcesDir, 'lighthouse.md'), Buffer.concat([bytes.subarray(0, 80), Buffer.from([0x80, 0xc0, 0xaf]), bytes.subarray(80)]));
    const summary = await docent.reindex();
    expect(summary.problems).toHaveLength(1);
    expect(summary.problems[0]).toMatchObject({ id: 'lighthouse.md', path: lighthousePath });
    expect(summary.problems[0]!.reason).toMatch(/UTF-8/);
    expect(summary.kept).toEqual(['lighthouse.md']);
    expect(summary.removed).toEqual([]);
    expect(summary.added).toEqual([]);
    expect(summary.changed).toEqual([]);

    // The served quotes are the indexed version's text, no longer what the file holds.
    const indexedTexts = new Map([[lighthousePath, LIGHTHOUSE]]);
    const after = await ask(docent, LIGHTHOUSE_QUESTION, indexedTexts);
    expect(after.quotes).toEqual(before.quotes);

    // A later re-index that does publish a new generation still carries the kept source over.
    await writeFile(path.join(s.sourcesDir, 'bees.md'), BEES);
    const next = await docent.reindex();
    expect(next.updated).toBe(true);
    expect(next.added).toEqual(['bees.md']);
    expect(next.kept).toEqual(['lighthouse.md']);
    expect(docent.sources().sources.map((source) => source.id)).toContain('lighthouse.md');
    const still = await ask(docent, LIGHTHOUSE_QUESTION, indexedTexts);
    expect(still.answered).toBe(true);
    expect(fromSource(still, 'lighthouse.md').some((quote) => quote.text.includes('Agnes Thornbury'))).toBe(true);
  });

  it('rebuilds everything when CHUNK_OVERLAP_SENTENCES changes, and when forced', async () => {
    const s = await setup('rebuild', { 'bees.md': BEES });
    const first = await s.run({ overlapSentences: 1 });
    const all = [...SEED_FILES, 'bees.md'].sort();
    const everyChunk = async () => (await new VectraStore(s.indexDir).readManifest())!.sources.reduce((sum, source) => sum + source.chunks, 0);
    expect(first.chunksEmbedded).toBe(await everyChunk());

    const overlap = await s.run({ overlapSentences: 2 });
    expect(overlap.rebuildReason).toMatch(/overlap/);
    expect(overlap.rebuildReason).toMatch(/1 → 2/);
    expect(overlap.updated).toBe(true);
    expect([...overlap.added, ...overlap.changed].sort()).toEqual(all);
    expect(overlap.unchanged).toEqual([]);
    expect(overlap.removed).toEqual([]);
    expect(overlap.chunksEmbedded).toBe(await everyChunk());
    expect((await new VectraStore(s.indexDir).readManifest())!.settings.overlapSentences).toBe(2);

    const same = await s.run({ overlapSentences: 2 });
    expect(same.updated).toBe(false);
    expect(same.rebuildReason).toBeUndefined();

    const before = await s.current();
    const forced = await s.run({ overlapSentences: 2, force: true });
    expect(forced.rebuildReason).toMatch(/force/);
    expect(forced.updated).toBe(true);
    expect([...forced.added, ...forced.changed].sort()).toEqual(all);
    expect(forced.unchanged).toEqual([]);
    expect(forced.chunksEmbedded).toBe(await everyChunk());
    expect(await s.current()).not.toBe(before);

    const docent = await s.open();
    const answer = await ask(docent, 'Which properties does Russia want returned?');
    expect(answer.answered).toBe(true);
  });

  it('lets only one of two concurrent re-indexes of the same folder run', async () => {
    const s = await setup('concurrent');
    const results = await Promise.allSettled([s.run(), s.run()]);
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    const fulfilled = results.filter((result): result is PromiseFulfilledResult<ReindexSummary> => result.status === 'fulfilled');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(IndexBusyError);
    expect(fulfilled).toHaveLength(1);
    expect(fulfilled[0]!.value.added.sort()).toEqual([...SEED_FILES]);
    // The lock is released afterwards: the next re-index runs.
    expect((await s.run()).updated).toBe(false);
  });

  it('reports and skips broken files while indexing the rest', async () => {
    const s = await setup('broken', {
      'binary.md': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
      'bad-front-matter.md': '---\ntitle: [unclosed\ndate: : :\n---\n\nThe lighthouse keeper was Agnes Thornbury.\n',
      'empty.txt': '---\ntitle: Nothing here\n---\n\n   \n',
      'lighthouse.md': LIGHTHOUSE,
    });
    const summary = await s.run();
    const problems = new Map(summary.problems.map((problem) => [problem.id, problem.reason]));
    expect([...problems.keys()].sort()).toEqual(['bad-front-matter.md', 'binary.md', 'empty.txt']);
    expect(problems.get('binary.md')).toMatch(/binary/);
    expect(problems.get('bad-front-matter.md')).toMatch(/front matter/);
    expect(problems.get('empty.txt')).toMatch(/empty/);
    expect(summary.added.sort()).toEqual([...SEED_FILES, 'lighthouse.md'].sort());
    expect(summary.kept).toEqual([]);

    const docent = await s.open();
    expect(
      docent
        .sources()
        .sources.map((source) => source.id)
        .sort(),
    ).toEqual([...SEED_FILES, 'lighthouse.md'].sort());
    const answer = await ask(docent, LIGHTHOUSE_QUESTION);
    expect(answer.answered).toBe(true);
    expect(answer.quotes.every((quote) => quote.source.id !== 'bad-front-matter.md')).toBe(true);
    expect(fromSource(answer, 'lighthouse.md').length).toBeGreaterThan(0);
  });
});

/** An index written by an earlier version of Docent is rebuilt on open, not served half-understood. */
it('rebuilds an index from an older format before answering from it', async () => {
  const config = testConfig(await seededSourcesDir('upgrade'), tempDir('upgrade-index'));
  await (await openDocent(config, {}, embedder)).reindex();
  const first = await readCurrentGeneration(config.INDEX_DIR);
  const manifestFile = path.join(config.INDEX_DIR, first!, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { version: number };
  await writeFile(manifestFile, JSON.stringify({ ...manifest, version: 1 }));

  const log: EngineEvent[] = [];
  const docent = await openDocent(config, { onEvent: (event) => log.push(event) }, embedder);
  expect(log).toEqual([{ kind: 'building-index', because: 'outdated', location: config.INDEX_DIR, sourcesDir: config.SOURCES_DIR }]);
  expect(await readCurrentGeneration(config.INDEX_DIR)).not.toBe(first);
  const answer = await docent.ask('Who led the talks in Istanbul?');
  expect(answer.answered).toBe(true);
  expectExactQuotes(answer);
});

/** A power cut can leave the newest generation's files truncated; the one before it still serves. */
it('answers from the previous generation when the newest cannot be read, then repairs CURRENT', async () => {
  const sourcesDir = await seededSourcesDir('power-cut');
  const config = testConfig(sourcesDir, tempDir('power-cut-index'));
  const first = await openDocent(config, {}, embedder);
  const before = await first.ask('Who led the talks in Istanbul?');
  const older = await readCurrentGeneration(config.INDEX_DIR);
  await writeFile(path.join(sourcesDir, 'bees.md'), BEES);
  await first.reindex();
  const newer = await readCurrentGeneration(config.INDEX_DIR);
  expect(newer).not.toBe(older);

  // Truncate what only the newer generation holds: bees.md's vectors.
  const shards = path.join(config.INDEX_DIR, 'shards');
  const bees = (await readdir(shards)).find((name) => name.startsWith('bees.md-'))!;
  await writeFile(path.join(shards, bees, 'vectors.bin'), '');

  const events: EngineEvent[] = [];
  const recovered = await openDocent(config, { onEvent: (event) => events.push(event) }, embedder);
  expect(events).toEqual([
    expect.objectContaining({ kind: 'index-fell-back', generation: older, reason: expect.stringMatching(/vectors\.bin holds 0 bytes/) }),
  ]);
  const answer = await recovered.ask('Who led the talks in Istanbul?');
  expectExactQuotes(answer);
  expect(answer.quotes.map((quote) => quote.text)).toEqual(before.quotes.map((quote) => quote.text));
  expect(
    recovered
      .sources()
      .sources.map((source) => source.id)
      .sort(),
  ).toEqual([...SEED_FILES]);

  // The next re-index builds on the intact generation and publishes a good one.
  const summary = await recovered.reindex();
  expect(summary.added).toEqual(['bees.md']);
  expect(await readCurrentGeneration(config.INDEX_DIR)).not.toBe(newer);
  expect(fromSource(await ask(recovered, BEES_QUESTION), 'bees.md').length).toBeGreaterThan(0);
});

it('rebuilds, saying why, when CURRENT names a generation that is gone and none other is left', async () => {
  const config = testConfig(await seededSourcesDir('pointer-gone'), tempDir('pointer-gone-index'));
  await (await openDocent(config, {}, embedder)).reindex();
  await writeFile(path.join(config.INDEX_DIR, 'CURRENT'), 'gen-20000101T000000-gone00\n');
  const events: EngineEvent[] = [];
  const docent = await openDocent(config, { onEvent: (event) => events.push(event) }, embedder);
  // The real generation is still on disk, so it serves; with it gone too, the index is rebuilt.
  expect(events.map((event) => event.kind)).toEqual(['index-fell-back']);
  for (const name of await readdir(config.INDEX_DIR)) if (name.startsWith('gen-')) await rm(path.join(config.INDEX_DIR, name), { recursive: true });
  await writeFile(path.join(config.INDEX_DIR, 'CURRENT'), 'gen-20000101T000000-gone00\n');
  events.length = 0;
  const rebuilt = await openDocent(config, { onEvent: (event) => events.push(event) }, embedder);
  expect(events).toEqual([
    expect.objectContaining({ kind: 'building-index', because: 'unreadable', reason: expect.stringMatching(/gen-20000101T000000-gone00.*missing/) }),
  ]);
  expect((await rebuilt.ask('Who led the talks in Istanbul?')).answered).toBe(true);
  expect(docent.sources().sources.length).toBe(2);
});
