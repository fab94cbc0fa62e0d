import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import pgvector from 'pgvector';
import { IndexBusyError } from '../lock.ts';
import { newGenerationName } from '../vectra/generations.ts';
import type { IndexedSource, IndexSettings, Manifest } from '../manifest.ts';
import type { ChunkRecord, DenseHit, GenerationWriter, IndexReader, IndexStore, KeywordStats, SentenceFilter, SentenceRecord, SourceItems } from '../store.ts';
import { schemaStatements, tablesIn, writerStatements, type Tables } from './schema.ts';
import { decodeTokenVectors, encodeTokenVectors } from '../tokenVectors.ts';
import type { VectorMatrix } from '../vectorMath.ts';

/**
 * The store for deployments beyond one process: PostgreSQL with pgvector. Sources are stored as
 * shards (one per source version) shared between generations; a generation lists its shards, and
 * `docent_current` names the one readers use, switched in one transaction. Re-index writers take
 * a lease row, renewed while they run, so a writer that died frees it when the lease runs out.
 */

const LEASE_SECONDS = 60;
const LEASE_RENEW_MS = 15_000;
/**
 * Session settings for the vector indexes: search deep enough for the first stage, and keep
 * scanning past rows of other generations until enough of this one's are found (pgvector ≥ 0.8).
 */
const SESSION_SETTINGS = ['SET hnsw.ef_search = 400', 'SET hnsw.iterative_scan = relaxed_order'];
/** Rows per INSERT statement: well below PostgreSQL's 65,535 parameters. */
const ROWS_PER_INSERT = 200;
/**
 * Candidates each vector index is asked for. The first stage ranks by the sum of two cosines, so
 * it reads the best of each and sums them exactly; twice the depth asked keeps it close to exact.
 */
const DEPTH_FACTOR = 2;

/** A connection string without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured DATABASE_URL';
  }
}

const isMissingTable = (error: unknown) => (error as { code?: string }).code === '42P01';

async function insertRows(client: pg.PoolClient, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const batch = rows.slice(start, start + ROWS_PER_INSERT);
    const values = batch.map((row, r) => `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, batch.flat());
  }
}

/** Runs queries on pooled connections that carry SESSION_SETTINGS. */
class Session {
  private readonly configured = new WeakSet<pg.PoolClient>();

  constructor(private readonly pool: pg.Pool) {}

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.pool.connect();
    try {
      if (!this.configured.has(client)) {
        for (const setting of SESSION_SETTINGS) await client.query(setting);
        this.configured.add(client);
      }
      return await client.query<R>(text, values);
    } finally {
      client.release();
    }
  }
}

class PostgresReader implements IndexReader {
  readonly sources: ReadonlyMap<string, IndexedSource>;
  private readonly sentenceTotal: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly session: Session,
    private readonly TABLES: Tables,
    readonly generation: string,
    readonly manifest: Manifest,
    private readonly shards: readonly string[],
  ) {
    this.sources = new Map(manifest.sources.map((source) => [source.id, source]));
    this.sentenceTotal = manifest.sources.reduce((sum, source) => sum + source.sentences, 0);
  }

  async nearest(query: Float32Array, k: number, exclude?: SentenceFilter): Promise<DenseHit[]> {
    // A filter only the caller can apply is applied to a deeper list, then cut back to k.
    const wanted = exclude ? 2 * k : k;
    const depth = DEPTH_FACTOR * wanted;
    const { rows } = await this.session.query<{ record: SentenceRecord; cosine: number; context_cosine: number; chunk_cosine: number | null }>(
      `WITH near AS (
           (SELECT shard, sentence FROM ${this.TABLES.sentences} WHERE shard = ANY($2::bigint[]) ORDER BY embedding <=> $1 LIMIT $3)
           UNION
           (SELECT shard, sentence FROM ${this.TABLES.sentences} WHERE shard = ANY($2::bigint[]) ORDER BY context <=> $1 LIMIT $3)
         )
         SELECT s.record, 1 - (s.embedding <=> $1) AS cosine, 1 - (s.context <=> $1) AS context_cosine,
           (SELECT max(1 - (c.embedding <=> $1)) FROM ${this.TABLES.chunks} c
             WHERE c.shard = s.shard AND s.sentence BETWEEN c.first_sentence AND c.last_sentence) AS chunk_cosine
         FROM near JOIN ${this.TABLES.sentences} s USING (shard, sentence)
         ORDER BY (s.embedding <=> $1) + (s.context <=> $1), s.shard, s.sentence
         LIMIT $4`,
      [pgvector.toSql(Array.from(query)), this.shards, depth, wanted],
    );
    const hits = rows.map((row) => ({ sentence: row.record, cosine: row.cosine, contextCosine: row.context_cosine, chunkCosine: row.chunk_cosine ?? -1 }));
    return (exclude ? hits.filter((hit) => !exclude(hit.sentence)) : hits).slice(0, k);
  }

  async keywordStats(terms: readonly string[]): Promise<KeywordStats> {
    const { rows } = await this.pool.query<{ term: string; sentences: number }>(
      `SELECT term, sum(sentences)::int AS sentences FROM ${this.TABLES.terms} WHERE shard = ANY($1::bigint[]) AND term = ANY($2::text[]) GROUP BY term`,
      [this.shards, terms],
    );
    const counts = new Map(rows.map((row) => [row.term, row.sentences]));
    return { sentences: this.sentenceTotal, frequencies: terms.map((term) => counts.get(term) ?? 0) };
  }

  async tokenVectors(sentences: readonly SentenceRecord[]): Promise<(VectorMatrix | undefined)[]> {
    if (sentences.length === 0) return [];
    const { rows } = await this.session.query<{ source_id: string; sentence: number; tokens: Buffer | null }>(
      `SELECT w.source_id, w.sentence, s.tokens
         FROM unnest($2::text[], $3::int[]) AS w (source_id, sentence)
         JOIN ${this.TABLES.sentences} s ON s.shard = ANY($1::bigint[]) AND s.sentence = w.sentence AND s.record->>'sourceId' = w.source_id`,
      [this.shards, sentences.map((s) => s.sourceId), sentences.map((s) => s.sentence)],
    );
    const dimensions = this.manifest.settings.dimensions;
    // A damaged value costs its sentence the re-ranking (the question is ranked by the first pass), not the answer.
    const decoded = (tokens: Buffer | null) => {
      try {
        return tokens === null ? undefined : decodeTokenVectors(tokens, 1, dimensions, this.TABLES.sentences)[0];
      } catch {
        return undefined;
      }
    };
    const found = new Map(rows.map((row) => [`${row.sentence}:${row.source_id}`, decoded(row.tokens)]));
    return sentences.map((s) => found.get(`${s.sentence}:${s.sourceId}`));
  }

  async close(): Promise<void> {}
}

export interface PostgresOptions {
  readonly maxConnections?: number;
  /** A schema of its own for Docent's tables (created if missing); default: the connection's search path. */
  readonly schema?: string;
}

export class PostgresStore implements IndexStore {
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly session: Session;
  private readonly TABLES: Tables;
  private readonly schema?: string;

  constructor(databaseUrl: string, options: PostgresOptions = {}) {
    this.location = redactedUrl(databaseUrl) + (options.schema ? ` (schema ${options.schema})` : '');
    this.schema = options.schema;
    this.TABLES = tablesIn(options.schema);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: options.maxConnections ?? 4 });
    // An idle connection the server dropped must not crash the bot; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.session = new Session(this.pool);
  }

  async currentGeneration(): Promise<string | undefined> {
    try {
      const { rows } = await this.pool.query<{ generation: string }>(`SELECT generation FROM ${this.TABLES.current}`);
      return rows[0]?.generation;
    } catch (error) {
      if (isMissingTable(error)) return undefined;
      throw error;
    }
  }

  /** The current generation with its manifest and shards, read in one snapshot. */
  private async current(): Promise<{ generation: string; manifest: Manifest; shards: Map<string, string> } | undefined> {
    try {
      const { rows } = await this.pool.query<{ generation: string; manifest: Manifest; source_id: string | null; shard: string | null }>(
        `SELECT g.name AS generation, g.manifest, gs.source_id, gs.shard::text AS shard
         FROM ${this.TABLES.current} cur JOIN ${this.TABLES.generations} g ON g.name = cur.generation
         LEFT JOIN ${this.TABLES.generationShards} gs ON gs.generation = g.name`,
      );
      const first = rows[0];
      if (first === undefined) return undefined;
      const shards = new Map(rows.flatMap((row) => (row.source_id !== null && row.shard !== null ? [[row.source_id, row.shard] as const] : [])));
      return { generation: first.generation, manifest: first.manifest, shards };
    } catch (error) {
      if (isMissingTable(error)) return undefined;
      throw error;
    }
  }

  async readManifest(): Promise<Manifest | undefined> {
    return (await this.current())?.manifest;
  }

  async open(): Promise<IndexReader | undefined> {
    const current = await this.current();
    if (current === undefined) return undefined;
    return new PostgresReader(this.pool, this.session, this.TABLES, current.generation, current.manifest, [...current.shards.values()]);
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    for (const statement of writerStatements(this.TABLES, this.schema)) await this.pool.query(statement);
    const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
    const { rows } = await this.pool.query(
      `INSERT INTO ${this.TABLES.writer} (id, holder, expires) VALUES (true, $1, now() + make_interval(secs => $2))
       ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires WHERE ${this.TABLES.writer}.expires < now()
       RETURNING holder`,
      [holder, LEASE_SECONDS],
    );
    if (rows.length === 0) throw new IndexBusyError(this.location, LEASE_SECONDS);
    const renew = setInterval(() => {
      this.pool
        .query(`UPDATE ${this.TABLES.writer} SET expires = now() + make_interval(secs => $2) WHERE holder = $1`, [holder, LEASE_SECONDS])
        .catch(() => undefined);
    }, LEASE_RENEW_MS);
    renew.unref();
    this.leaseHolder = holder;
    try {
      return await work();
    } finally {
      this.leaseHolder = undefined;
      clearInterval(renew);
      await this.pool.query(`DELETE FROM ${this.TABLES.writer} WHERE holder = $1`, [holder]);
    }
  }

  /** The lease of the write in progress; a writer whose lease another took over must not publish. */
  private leaseHolder: string | undefined;

  async tidy(): Promise<void> {
    const generation = await this.currentGeneration();
    await this.retire(generation ? [generation] : []);
  }

  /** Removes generations other than `keep`, and shards none of them lists (rows go with them). */
  private async retire(keep: readonly string[]): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.TABLES.generations} WHERE NOT (name = ANY($1::text[]))`, [keep]);
    await this.pool.query(`DELETE FROM ${this.TABLES.shards} s WHERE NOT EXISTS (SELECT 1 FROM ${this.TABLES.generationShards} gs WHERE gs.shard = s.id)`);
  }

  async begin(settings: IndexSettings): Promise<GenerationWriter> {
    for (const statement of schemaStatements(settings.dimensions, this.TABLES, this.schema)) await this.pool.query(statement);
    await this.checkDimensions(settings.dimensions);
    const previous = await this.current();
    const shards = new Map<string, string>();
    const written: string[] = [];
    return {
      carryOver: async (sourceId) => {
        const shard = previous?.shards.get(sourceId);
        if (shard === undefined) throw new Error(`The current index has no shard for ${sourceId} to carry over.`);
        shards.set(sourceId, shard);
      },
      put: async (items) => {
        const shard = await this.writeShard(items);
        written.push(shard);
        shards.set(items.sourceId, shard);
      },
      commit: async (manifest) => {
        const generation = newGenerationName();
        const client = await this.pool.connect();
        try {
          await client.query('BEGIN');
          if (this.leaseHolder !== undefined) {
            const { rows } = await client.query(`SELECT 1 FROM ${this.TABLES.writer} WHERE holder = $1 FOR UPDATE`, [this.leaseHolder]);
            if (rows.length === 0)
              throw new Error(`This re-index stalled past its ${LEASE_SECONDS} s lease and another took over ${this.location}; it published nothing.`);
          }
          await client.query(`INSERT INTO ${this.TABLES.generations} (name, manifest) VALUES ($1, $2)`, [generation, JSON.stringify(manifest)]);
          await insertRows(
            client,
            this.TABLES.generationShards,
            ['generation', 'source_id', 'shard'],
            [...shards].map(([sourceId, shard]) => [generation, sourceId, shard]),
          );
          await client.query(
            `INSERT INTO ${this.TABLES.current} (id, generation) VALUES (true, $1) ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation`,
            [generation],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
        await this.retire(previous ? [generation, previous.generation] : [generation]);
      },
      abort: async () => {
        if (written.length > 0) await this.pool.query(`DELETE FROM ${this.TABLES.shards} WHERE id = ANY($1::bigint[])`, [written]);
      },
    };
  }

  private async checkDimensions(dimensions: number): Promise<void> {
    const { rows } = await this.pool.query<{ dimensions: number }>(
      `SELECT atttypmod AS dimensions FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`,
      [this.TABLES.sentences],
    );
    const stored = rows[0]?.dimensions;
    if (stored !== undefined && stored !== dimensions) {
      throw new Error(
        `The Docent tables in ${this.location} hold ${stored}-dimensional vectors, but the model makes ${dimensions}; drop the docent_* tables to start over.`,
      );
    }
  }

  /** Writes one source in its own transaction: a shard is complete or absent. */
  private async writeShard(items: SourceItems): Promise<string> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(`INSERT INTO ${this.TABLES.shards} (source_id) VALUES ($1) RETURNING id::text AS id`, [
        items.sourceId,
      ]);
      const shard = rows[0]!.id;
      await insertRows(
        client,
        this.TABLES.sentences,
        ['shard', 'sentence', 'record', 'embedding', 'context', 'tokens'],
        items.sentences.map(({ record, vector, context, tokens }) => [
          shard,
          record.sentence,
          JSON.stringify(record),
          pgvector.toSql(Array.from(vector)),
          pgvector.toSql(Array.from(context)),
          tokens === undefined ? null : encodeTokenVectors([tokens], vector.length),
        ]),
      );
      await insertRows(
        client,
        this.TABLES.chunks,
        ['shard', 'chunk', 'first_sentence', 'last_sentence', 'record', 'embedding'],
        items.chunks.map(({ record, vector }: { record: ChunkRecord; vector: Float32Array }) => [
          shard,
          record.chunk,
          record.firstSentence,
          record.lastSentence,
          JSON.stringify(record),
          pgvector.toSql(Array.from(vector)),
        ]),
      );
      await insertRows(
        client,
        this.TABLES.terms,
        ['shard', 'term', 'sentences'],
        Object.entries(items.termCounts).map(([term, count]) => [shard, term, count]),
      );
      await client.query('COMMIT');
      return shard;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
