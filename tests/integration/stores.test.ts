/**
 * The store contract, run against both stores: Vectra files in a temp folder, and PostgreSQL with
 * pgvector (PGlite served on 127.0.0.1, spoken to by the real `pg` client). Vectors are small and
 * synthetic so every expected cosine can be worked out by hand.
 */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexBusyError } from '../../src/index/lock.ts';
import { MANIFEST_VERSION, type IndexedSource, type IndexSettings, type Manifest } from '../../src/index/manifest.ts';
import { startLocalPostgres, type LocalPostgres } from '../../src/index/postgres/localPostgres.ts';
import { PostgresStore } from '../../src/index/postgres/postgresStore.ts';
import type { IndexStore, SourceItems } from '../../src/index/store.ts';
import { writeAnnInOwnProcess } from '../../src/index/vectra/ann.ts';
import { VectraStore } from '../../src/index/vectra/vectraStore.ts';
import { removeTempDirs, tempDir } from './helpers.ts';

const DIMENSIONS = 4;
const SETTINGS: IndexSettings = { modelId: 'test-model', dimensions: DIMENSIONS, chunkerVersion: 1, chunkMaxTokens: 256, overlapSentences: 1 };

const unit = (values: number[]) => {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (value) => value / norm);
};
const axis = (i: number) => unit(Array.from({ length: DIMENSIONS }, (_, d) => (d === i ? 1 : 0)));

/**
 * A source of `vectors.length` sentences, sentence i pointing along `vectors[i]` (alone and in
 * context), in one chunk covering them all that points along `chunk`.
 */
function source(id: string, texts: string[], vectors: Float32Array[], chunk: Float32Array): { items: SourceItems; described: IndexedSource } {
  const sentences = texts.map((text, i) => ({
    record: { sourceId: id, sentence: i, start: i * 100, end: i * 100 + text.length, line: i + 1, text, entities: '' },
    vector: vectors[i]!,
    context: vectors[i]!,
  }));
  const termCounts: Record<string, number> = {};
  for (const text of texts) for (const word of new Set(text.toLowerCase().split(/\W+/).filter(Boolean))) termCounts[word] = (termCounts[word] ?? 0) + 1;
  const all = texts.join(' ');
  return {
    items: {
      sourceId: id,
      chunks: [{ record: { sourceId: id, chunk: 0, start: 0, end: all.length, firstSentence: 0, lastSentence: texts.length - 1, text: all }, vector: chunk }],
      sentences,
      termCounts,
    },
    described: { id, path: id, title: id, hash: `hash-of-${id}-${texts.join('|')}`, chunks: 1, sentences: texts.length, indexedAt: '2026-01-01T00:00:00.000Z' },
  };
}

const manifest = (sources: IndexedSource[]): Manifest => ({ version: MANIFEST_VERSION, settings: SETTINGS, builtAt: new Date().toISOString(), sources });

const A = source('a.md', ['alpha one', 'alpha two'], [axis(0), unit([1, 1, 0, 0])], axis(0));
const B = source('b.md', ['beta one'], [axis(1)], axis(1));
const B2 = source('b.md', ['beta changed', 'beta more'], [axis(2), unit([0, 0, 1, 1])], axis(2));
/** A's sentences with their word-piece vectors: two pieces, then one. */
const PIECES = [[axis(0), axis(1)], [unit([1, -1, 0.5, 0])]];
const flat = (rows: Float32Array[]) => Float32Array.from(rows.flatMap((row) => [...row]));
const A_WITH_PIECES = {
  ...A,
  items: { ...A.items, sentences: A.items.sentences.map((sentence, i) => ({ ...sentence, tokens: flat(PIECES[i]!) })) },
};

async function publish(store: IndexStore, build: (writer: Awaited<ReturnType<IndexStore['begin']>>) => Promise<IndexedSource[]>): Promise<void> {
  await store.exclusive(async () => {
    const writer = await store.begin(SETTINGS);
    await writer.commit(manifest(await build(writer)));
  });
}

/** Publishes a generation holding just `sources`, each written afresh. */
function publishFresh(store: IndexStore, ...sources: { items: SourceItems; described: IndexedSource }[]): Promise<void> {
  return publish(store, async (writer) => {
    for (const source of sources) await writer.put(source.items);
    return sources.map((source) => source.described);
  });
}

let postgres: LocalPostgres;

beforeAll(async () => {
  postgres = await startLocalPostgres();
});

afterAll(async () => {
  await postgres?.stop();
  removeTempDirs();
});

interface Backend {
  readonly name: string;
  create(): IndexStore;
  /** What is stored, one `source:identity` entry per stored part, to tell carried-over parts from rewritten ones. */
  parts(store: IndexStore): Promise<string[]>;
}

const schemas = new Map<IndexStore, string>();
const backends: Backend[] = [
  {
    name: 'Vectra',
    create: () => new VectraStore(tempDir('store')),
    async parts(store) {
      const shardsDir = path.join(store.location, 'shards');
      const parts: string[] = [];
      for (const shard of await readdir(shardsDir)) {
        const written = (await stat(path.join(shardsDir, shard, 'part-000', 'index.json'))).mtimeMs;
        parts.push(`${shard.replace(/-[0-9a-f]+$/, '')}:${shard}@${written}`);
      }
      return parts.sort();
    },
  },
  {
    name: 'PostgreSQL',
    create() {
      // Each test gets its own schema, so the stores never see each other's tables.
      const schema = `store_test_${schemas.size + 1}`;
      const store = new PostgresStore(postgres.url, { schema });
      schemas.set(store, schema);
      return store;
    },
    async parts(store) {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ part: string }>(`SELECT source_id || ':' || id AS part FROM ${schemas.get(store)}.docent_shards`);
        return rows.map((row) => row.part).sort();
      } finally {
        await client.end();
      }
    },
  },
];

describe.each(backends)('$name store', (backend) => {
  it('is empty before anything is written', async () => {
    const store = backend.create();
    try {
      expect(await store.currentGeneration()).toBeUndefined();
      expect(await store.readManifest()).toBeUndefined();
      expect(await store.open()).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('serves a committed generation: exact cosines, chunk cosines, keyword counts, exclusions', async () => {
    const store = backend.create();
    try {
      await publishFresh(store, A, B);
      const reader = (await store.open())!;
      expect(reader.generation).toBe(await store.currentGeneration());
      expect([...reader.sources.keys()].sort()).toEqual(['a.md', 'b.md']);

      const hits = await reader.nearest(axis(0), 10);
      expect(hits.map((hit) => hit.sentence.text)).toEqual(['alpha one', 'alpha two', 'beta one']);
      expect(hits[0]!.cosine).toBeCloseTo(1, 5);
      expect(hits[1]!.cosine).toBeCloseTo(Math.SQRT1_2, 5);
      expect(hits[1]!.contextCosine).toBeCloseTo(Math.SQRT1_2, 5);
      expect(hits[2]!.cosine).toBeCloseTo(0, 5);
      expect(hits[0]!.chunkCosine).toBeCloseTo(1, 5);
      expect(hits[2]!.chunkCosine).toBeCloseTo(0, 5);
      expect(hits[1]!.sentence).toEqual(A.items.sentences[1]!.record);

      expect((await reader.nearest(axis(0), 1)).map((hit) => hit.sentence.text)).toEqual(['alpha one']);
      const excluded = await reader.nearest(axis(0), 10, (sentence) => sentence.sourceId === 'a.md');
      expect(excluded.map((hit) => hit.sentence.text)).toEqual(['beta one']);

      expect(await reader.keywordStats(['alpha', 'one', 'beta', 'gamma'])).toEqual({ sentences: 3, frequencies: [2, 2, 1, 0] });
      await reader.close();
    } finally {
      await store.close();
    }
  });

  it("keeps each sentence's word-piece vectors, within int8's precision, and has none for a sentence written without", async () => {
    const store = backend.create();
    try {
      await publishFresh(store, A_WITH_PIECES, B);
      const reader = (await store.open())!;
      const [a1, b0, a0] = await reader.tokenVectors([A.items.sentences[1]!.record, B.items.sentences[0]!.record, A.items.sentences[0]!.record]);
      expect(b0).toBeUndefined();
      for (const [matrix, rows] of [
        [a0, PIECES[0]!],
        [a1, PIECES[1]!],
      ] as const) {
        expect(matrix!.rows).toBe(rows.length);
        rows.forEach((row, r) => row.forEach((value, d) => expect(matrix!.codes[r * DIMENSIONS + d]! * matrix!.scales[r]!).toBeCloseTo(value, 2)));
      }
      expect(await reader.tokenVectors([])).toEqual([]);
      await reader.close();

      // Carried over, a source keeps them.
      await publish(store, async (writer) => {
        await writer.carryOver('a.md');
        await writer.put(B2.items);
        return [A.described, B2.described];
      });
      const next = (await store.open())!;
      const [carried] = await next.tokenVectors([A.items.sentences[0]!.record]);
      expect(carried!.rows).toBe(2);
      await next.close();
    } finally {
      await store.close();
    }
  });

  it('carries unchanged sources over without rewriting them, and keeps the previous generation readable', async () => {
    const store = backend.create();
    try {
      await publishFresh(store, A, B);
      const before = await backend.parts(store);
      const old = (await store.open())!;

      await publish(store, async (writer) => {
        await writer.carryOver('a.md');
        await writer.put(B2.items);
        return [A.described, B2.described];
      });
      // a.md's part is the very one written before; b.md has a new one beside the old (which the previous generation still lists).
      const after = await backend.parts(store);
      expect(after).toHaveLength(3);
      expect(after.filter((part) => !before.includes(part)).map((part) => part.split(':')[0])).toEqual(['b.md']);
      expect(before.every((part) => after.includes(part))).toBe(true);

      const reader = (await store.open())!;
      expect(reader.generation).not.toBe(old.generation);
      expect((await reader.nearest(axis(2), 2)).map((hit) => hit.sentence.text)).toEqual(['beta changed', 'beta more']);
      expect((await reader.nearest(axis(0), 1)).map((hit) => hit.sentence.text)).toEqual(['alpha one']);
      expect((await reader.keywordStats(['beta', 'one'])).frequencies).toEqual([2, 1]);
      // A process still holding the generation before the swap keeps answering from it.
      expect((await old.nearest(axis(1), 1)).map((hit) => hit.sentence.text)).toEqual(['beta one']);

      // One more generation retires the first: its part for b.md goes, the rest stay as they were.
      await publish(store, async (writer) => {
        await writer.carryOver('a.md');
        await writer.carryOver('b.md');
        return [A.described, B2.described];
      });
      const oldB = before.find((part) => part.startsWith('b.md'))!;
      expect(await backend.parts(store)).toEqual(after.filter((part) => part !== oldB));
    } finally {
      await store.close();
    }
  });

  it('shows nothing of an aborted generation and removes what it wrote', async () => {
    const store = backend.create();
    try {
      await publishFresh(store, A);
      const current = await store.currentGeneration();
      const before = await backend.parts(store);
      await store.exclusive(async () => {
        const writer = await store.begin(SETTINGS);
        await writer.carryOver('a.md');
        await writer.put(B.items);
        await writer.abort();
      });
      expect(await store.currentGeneration()).toBe(current);
      expect(await backend.parts(store)).toEqual(before);
      expect((await store.readManifest())!.sources.map((s) => s.id)).toEqual(['a.md']);
    } finally {
      await store.close();
    }
  });

  it('lets one writer in at a time', async () => {
    const store = backend.create();
    // Two processes: a second Vectra store on the same folder; PostgreSQL hands each call its own connection.
    const other = store instanceof VectraStore ? new VectraStore(store.location) : store;
    try {
      let release!: () => void;
      const holding = store.exclusive(() => new Promise<void>((resolve) => (release = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(other.exclusive(async () => 'second')).rejects.toBeInstanceOf(IndexBusyError);
      release();
      await holding;
      expect(await other.exclusive(async () => 'after')).toBe('after');
    } finally {
      await store.close();
    }
  });
});

describe('Vectra shards', () => {
  it('keep the keyword counts summed per generation, and sum them from the shards for a generation written without', async () => {
    const store = new VectraStore(tempDir('store-terms'));
    await publishFresh(store, A, B);
    const first = (await readdir(store.location)).find((name) => name.startsWith('gen-'))!;
    const summed = await readFile(path.join(store.location, first, 'terms.tsv'), 'utf8');
    expect(summed.split('\n').sort()).toEqual(['', 'alpha\t2', 'beta\t1', 'one\t2', 'two\t1']);
    // As Docent before terms.tsv left it: the sum as one JSON object.
    await writeFile(path.join(store.location, first, 'terms.json'), JSON.stringify({ alpha: 2, one: 2, two: 1, beta: 1 }));
    await rm(path.join(store.location, first, 'terms.tsv'));
    expect((await (await store.open())!.keywordStats(['alpha', 'one', 'beta'])).frequencies).toEqual([2, 2, 1]);
    // Damaged: named, with the line.
    await writeFile(path.join(store.location, first, 'terms.tsv'), 'alpha\t2\nbeta\tone\n');
    await expect(store.open()).rejects.toThrow(/terms\.tsv, line 2: not a term, a tab and a count/);
    await writeFile(path.join(store.location, first, 'terms.tsv'), 'alpha\t2\nbet');
    await expect(store.open()).rejects.toThrow(/terms\.tsv ends without a newline/);
    // As an older Docent left it: no sum. Loading sums the shards; the next generation sums what it carries.
    await rm(path.join(store.location, first, 'terms.tsv'));
    await rm(path.join(store.location, first, 'terms.json'));
    expect((await (await store.open())!.keywordStats(['alpha', 'one'])).frequencies).toEqual([2, 2]);
    await publish(store, async (writer) => {
      await writer.carryOver('a.md');
      await writer.put(B2.items);
      return [A.described, B2.described];
    });
    const reader = (await store.open())!;
    expect((await reader.keywordStats(['alpha', 'one', 'beta', 'changed'])).frequencies).toEqual([2, 1, 2, 1]);
  });

  it('read the keyword counts of shards an older Docent wrote inside records.json', async () => {
    const store = new VectraStore(tempDir('store-old-terms'));
    await publishFresh(store, A, B);
    const shardsDir = path.join(store.location, 'shards');
    for (const shard of await readdir(shardsDir)) {
      const records = JSON.parse(await readFile(path.join(shardsDir, shard, 'records.json'), 'utf8'));
      records.terms = JSON.parse(await readFile(path.join(shardsDir, shard, 'terms.json'), 'utf8'));
      await writeFile(path.join(shardsDir, shard, 'records.json'), JSON.stringify(records));
      await rm(path.join(shardsDir, shard, 'terms.json'));
    }
    await rm(path.join(store.location, (await store.currentGeneration())!, 'terms.tsv'));
    expect((await (await store.open())!.keywordStats(['alpha', 'one', 'beta'])).frequencies).toEqual([2, 2, 1]);
    // A re-index that drops one of them subtracts its counts read from records.json.
    await publish(store, async (writer) => {
      await writer.carryOver('a.md');
      await writer.put(B2.items);
      return [A.described, B2.described];
    });
    expect((await (await store.open())!.keywordStats(['alpha', 'one', 'beta', 'changed'])).frequencies).toEqual([2, 1, 2, 1]);
  });

  it('read the same from their Vectra files alone, and name a damaged vectors file', async () => {
    const store = new VectraStore(tempDir('store-fallback'));
    await publishFresh(store, A, B);
    const expected = await (await store.open())!.nearest(axis(0), 10);
    const shardsDir = path.join(store.location, 'shards');
    const [first, second] = (await readdir(shardsDir)).sort();

    await rm(path.join(shardsDir, first!, 'records.json'));
    await rm(path.join(shardsDir, first!, 'vectors.bin'));
    const fromVectra = await (await store.open())!.nearest(axis(0), 10);
    expect(fromVectra.map((hit) => hit.sentence)).toEqual(expected.map((hit) => hit.sentence));
    fromVectra.forEach((hit, i) => expect(hit.cosine).toBeCloseTo(expected[i]!.cosine, 2));
    expect(await (await store.open())!.keywordStats(['alpha', 'beta'])).toEqual({ sentences: 3, frequencies: [2, 1] });

    await writeFile(path.join(shardsDir, second!, 'vectors.bin'), Buffer.alloc(10));
    await expect(store.open()).rejects.toThrow(new RegExp(`${second!.replace(/\./g, '\\.')}.*vectors\\.bin holds 10 bytes`));
  });

  it('name a records file or manifest whose entries lack a field or have one of the wrong type', async () => {
    const store = new VectraStore(tempDir('store-bad-records'));
    await publishFresh(store, A);
    const [shard] = await readdir(path.join(store.location, 'shards'));
    const recordsFile = path.join(store.location, 'shards', shard!, 'records.json');
    const good = await readFile(recordsFile, 'utf8');
    const records = JSON.parse(good);
    for (const damage of [() => delete records.sentences[1].text, () => (records.chunks[0].start = '0'), () => (records.terms = { alpha: 1.5 })]) {
      damage();
      await writeFile(recordsFile, JSON.stringify(records));
      await expect(store.open()).rejects.toThrow(/records\.json is not a Docent records file/);
      Object.assign(records, JSON.parse(good));
    }
    await writeFile(recordsFile, good);
    // A shard's keyword counts are read only when the generation keeps no sum of them.
    await rm(path.join(store.location, (await store.currentGeneration())!, 'terms.tsv'));
    const termsFile = path.join(store.location, 'shards', shard!, 'terms.json');
    await writeFile(termsFile, JSON.stringify({ alpha: 1.5 }));
    await expect(store.open()).rejects.toThrow(/shards\/.*terms\.json is not a Docent keyword count file/);
    await rm(termsFile);
    await expect(store.open()).rejects.toThrow(/shards\/.*terms\.json is missing/);
    const manifestFile = path.join(store.location, (await store.currentGeneration())!, 'manifest.json');
    const written = JSON.parse(await readFile(manifestFile, 'utf8'));
    written.sources[0].sentences = 'two';
    await writeFile(manifestFile, JSON.stringify(written));
    await expect(store.open()).rejects.toThrow(/manifest\.json is not a Docent manifest/);
  });
});

describe('PostgreSQL word pieces', () => {
  it('takes a damaged word-piece value for none: the sentence is not re-ranked, and nothing fails', async () => {
    const store = new PostgresStore(postgres.url, { schema: 'pieces_test' });
    try {
      await publishFresh(store, A_WITH_PIECES);
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      await client.query(`UPDATE pieces_test.docent_sentences SET tokens = '\\x0100'::bytea WHERE sentence = 0`);
      await client.end();
      const reader = (await store.open())!;
      const [damaged, intact] = await reader.tokenVectors(A.items.sentences.map((sentence) => sentence.record));
      expect(damaged).toBeUndefined();
      expect(intact!.rows).toBe(1);
      await reader.close();
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL writer lease', () => {
  it('refuse a shard list naming a folder outside the shards folder', async () => {
    const store = new VectraStore(tempDir('store-bad-shard-list'));
    await publishFresh(store, A);
    const listFile = path.join(store.location, (await store.currentGeneration())!, 'shards.json');
    for (const list of [{ 'a.md': '../../elsewhere' }, { 'a.md': 7 }, ['a.md']]) {
      await writeFile(listFile, JSON.stringify(list));
      await expect(store.open()).rejects.toThrow(/shards\.json is not a list of shards/);
    }
  });

  it('publishes nothing when another process took its lease over', async () => {
    const store = new PostgresStore(postgres.url, { schema: 'lease_test' });
    try {
      await publishFresh(store, A);
      const before = await store.currentGeneration();
      await expect(
        store.exclusive(async () => {
          const writer = await store.begin(SETTINGS);
          await writer.put(B.items);
          // As when this writer stalls past its lease and a second one takes it.
          const other = new pg.Client({ connectionString: postgres.url });
          await other.connect();
          await other.query(`UPDATE lease_test.docent_writer SET holder = 'another-writer'`);
          await other.end();
          await writer.commit(manifest([A.described, B.described]));
        }),
      ).rejects.toThrow(/another took over .* it published nothing/);
      expect(await store.currentGeneration()).toBe(before);
    } finally {
      await store.close();
    }
  });
});

describe('a large Vectra index', () => {
  const D = 32;
  let seed = 12345;
  /** Deterministic noise in [-1, 1) (a linear congruential generator). */
  const noise = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 31 - 1;
  };
  /** Deterministic unit vectors: sources about different directions, sentences spread around them. */
  function topicSource(s: number): { items: SourceItems; described: IndexedSource } {
    const id = `topic-${s}.md`;
    const vectors = Array.from({ length: 64 }, () => unit(Array.from({ length: D }, (_, d) => (d === s % D ? 2 : 0) + noise())));
    const sentences = vectors.map((vector, i) => ({
      record: { sourceId: id, sentence: i, start: i * 10, end: i * 10 + 5, line: i + 1, text: `s${s}-${i}`, entities: '' },
      vector,
      context: vector,
    }));
    return {
      items: {
        sourceId: id,
        chunks: [{ record: { sourceId: id, chunk: 0, start: 0, end: 640, firstSentence: 0, lastSentence: 63, text: id }, vector: vectors[0]! }],
        sentences,
        termCounts: {},
      },
      described: { id, path: id, title: id, hash: id, chunks: 1, sentences: 64, indexedAt: '2026-01-01T00:00:00.000Z' },
    };
  }
  const sources = Array.from({ length: 12 }, (_, s) => topicSource(s));
  const settings = { ...SETTINGS, dimensions: D };

  async function publishSources(
    store: VectraStore,
    fresh: readonly { items: SourceItems; described: IndexedSource }[],
    carried: readonly IndexedSource[] = [],
  ) {
    await store.exclusive(async () => {
      const writer = await store.begin(settings);
      for (const source of carried) await writer.carryOver(source.id);
      for (const s of fresh) await writer.put(s.items);
      await writer.commit({ ...manifest([...carried, ...fresh.map((s) => s.described)]), settings });
    });
  }

  /** The hits an exact scan of the same files gives (a store that does not count the index as large). */
  async function expectSameAsExact(dir: string, probes: readonly Float32Array[], firstStage: 'exact' | 'graph' = 'graph'): Promise<void> {
    const [exact, graph] = [await new VectraStore(dir).open(), await new VectraStore(dir, { largeAbove: 0 }).open()];
    expect(exact!.firstStage).toBe('exact');
    expect(graph!.firstStage).toBe(firstStage);
    for (const probe of probes) {
      const expected = await exact!.nearest(probe, 10);
      const found = await graph!.nearest(probe, 10);
      // The sentence itself first; of the exact ten nearest, the graph (approximate, and built on two
      // threads, so not the same graph every time) may miss one.
      expect(found[0]!.sentence).toEqual(expected[0]!.sentence);
      const key = (hit: { sentence: { sourceId: string; sentence: number } }) => `${hit.sentence.sourceId}#${hit.sentence.sentence}`;
      const exactKeys = new Set(expected.map(key));
      expect(found.filter((hit) => exactKeys.has(key(hit))).length).toBeGreaterThanOrEqual(firstStage === 'graph' ? 9 : 10);
    }
  }

  it('is searched through an HNSW graph written with the generation, finding what an exact scan finds', async () => {
    const dir = tempDir('store-large');
    await publishSources(new VectraStore(dir, { largeAbove: 0 }), sources);
    const generation = (await readdir(dir)).find((name) => name.startsWith('gen-'))!;
    expect(await readdir(path.join(dir, generation))).toEqual(expect.arrayContaining(['dense.usearch', 'ann-keys.json']));
    await expectSameAsExact(
      dir,
      [sources[0]!, sources[5]!, sources[11]!].map((s) => s.items.sentences[7]!.vector),
    );
  });

  it('searches the graph on a thread of its own: questions asked together each get their answer, and one asked as the reader closes still does', async () => {
    const dir = tempDir('store-large-thread');
    const store = new VectraStore(dir, { largeAbove: 0 });
    await publishSources(store, sources);
    const reader = (await store.open())!;
    expect(reader.firstStage).toBe('graph');
    const probes = [0, 4, 8].map((i) => sources[i]!.items.sentences[3]!);
    const together = await Promise.all(probes.map((probe) => reader.nearest(probe.vector, 1)));
    expect(together.map(([hit]) => hit!.sentence)).toEqual(probes.map((probe) => probe.record));
    const last = reader.nearest(probes[1]!.vector, 1);
    await reader.close();
    expect((await last)[0]!.sentence).toEqual(probes[1]!.record);
    await expect(reader.nearest(probes[0]!.vector, 1)).rejects.toThrow(/closed/);
  });

  it('writes the graph in a process of its own, which reports a failed write (the store names the folder) and comes back', async () => {
    const dir = tempDir('store-large-process');
    await publishSources(new VectraStore(dir), sources.slice(0, 2));
    const shards = { dir: path.join(dir, 'shards'), names: await readdir(path.join(dir, 'shards')) };
    await expect(writeAnnInOwnProcess(path.join(dir, 'no-such-generation'), D, shards, undefined)).rejects.toThrow(/No such file or directory/);
    await writeAnnInOwnProcess(dir, D, shards, undefined);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['dense.usearch', 'ann-keys.json']));
  });

  it("carries the graph over a re-index: a changed source's old sentences leave it, its new ones join it", async () => {
    const dir = tempDir('store-large-update');
    const store = new VectraStore(dir, { largeAbove: 0 });
    await publishSources(store, sources);
    const changed = topicSource(12);
    const renamed = {
      items: {
        ...changed.items,
        sourceId: 'topic-3.md',
        sentences: changed.items.sentences.map((s) => ({ ...s, record: { ...s.record, sourceId: 'topic-3.md' } })),
      },
      described: { ...changed.described, id: 'topic-3.md', path: 'topic-3.md', hash: 'changed' },
    };
    await publishSources(
      store,
      [renamed],
      sources.filter((_, i) => i !== 3).map((s) => s.described),
    );
    const reader = (await store.open())!;
    const [found] = await reader.nearest(renamed.items.sentences[9]!.vector, 5);
    expect(found!.sentence).toEqual(renamed.items.sentences[9]!.record);
    const old = await reader.nearest(sources[3]!.items.sentences[9]!.vector, 100);
    expect(old.every((hit) => hit.sentence.text !== sources[3]!.items.sentences[9]!.record.text)).toBe(true);
    await expectSameAsExact(dir, [renamed.items.sentences[2]!.vector, sources[7]!.items.sentences[30]!.vector]);
  });

  it("rebuilds the graph when the previous generation's cannot be read", async () => {
    const dir = tempDir('store-large-broken');
    const store = new VectraStore(dir, { largeAbove: 0 });
    await publishSources(store, sources.slice(0, 6));
    const first = (await readdir(dir)).find((name) => name.startsWith('gen-'))!;
    await writeFile(path.join(dir, first, 'dense.usearch'), 'cut short');
    await publishSources(
      store,
      sources.slice(6),
      sources.slice(0, 6).map((s) => s.described),
    );
    await expectSameAsExact(dir, [sources[1]!.items.sentences[5]!.vector, sources[9]!.items.sentences[5]!.vector]);
  });

  it('is scanned exactly when its generation has no graph (written by an older Docent)', async () => {
    const dir = tempDir('store-large-old');
    await publishSources(new VectraStore(dir), sources);
    await expectSameAsExact(dir, [sources[4]!.items.sentences[20]!.vector], 'exact');
  });

  it("is scanned exactly when its graph's keys file has a shard entry that is not two counts", async () => {
    const dir = tempDir('store-large-keys');
    await publishSources(new VectraStore(dir, { largeAbove: 0 }), sources.slice(0, 4));
    const generation = (await readdir(dir)).find((name) => name.startsWith('gen-'))!;
    const keysFile = path.join(dir, generation, 'ann-keys.json');
    const intact = await readFile(keysFile, 'utf8');
    const probe = [sources[2]!.items.sentences[4]!.vector];
    for (const damage of [{ first: -1 }, { sentences: '170' }, { first: 1.5 }]) {
      const keys = JSON.parse(intact);
      const [name] = Object.keys(keys.shards);
      keys.shards[name!] = { ...keys.shards[name!], ...damage };
      await writeFile(keysFile, JSON.stringify(keys));
      await expectSameAsExact(dir, probe, 'exact');
    }
    await writeFile(keysFile, intact);
    await expectSameAsExact(dir, probe, 'graph');
  });

  it('reads each shard straight into its place, and names a records file that holds fewer records than the manifest says', async () => {
    const dir = tempDir('store-large-short');
    await publishSources(new VectraStore(dir), sources);
    const large = new VectraStore(dir, { largeAbove: 0 });
    const reader = (await large.open())!;
    // Every shard's rows land where its records do: each sentence is its own nearest.
    for (const s of [0, 6, 11]) {
      const sentence = sources[s]!.items.sentences[3]!;
      expect((await reader.nearest(sentence.vector, 1))[0]!.sentence).toEqual(sentence.record);
    }
    await reader.close();
    const shardsDir = path.join(dir, 'shards');
    const [shard] = (await readdir(shardsDir)).sort();
    const recordsFile = path.join(shardsDir, shard!, 'records.json');
    const records = JSON.parse(await readFile(recordsFile, 'utf8'));
    const count = records.sentences.length;
    records.sentences.pop();
    await writeFile(recordsFile, JSON.stringify(records));
    await expect(large.open()).rejects.toThrow(new RegExp(`records\\.json holds ${count - 1} sentences .* the manifest says ${count}`));
  });
});
