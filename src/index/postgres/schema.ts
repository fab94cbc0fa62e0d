const TABLE_NAMES = {
  writer: 'docent_writer',
  generations: 'docent_generations',
  current: 'docent_current',
  shards: 'docent_shards',
  generationShards: 'docent_generation_shards',
  sentences: 'docent_sentences',
  chunks: 'docent_chunks',
  terms: 'docent_terms',
} as const;

export type Tables = { readonly [K in keyof typeof TABLE_NAMES]: string };

/** Docent's tables, all prefixed so they can share a database with others; in `schema` when one is given. */
export function tablesIn(schema?: string): Tables {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new Error(`Invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  const qualify = (name: string) => (schema === undefined ? name : `${schema}.${name}`);
  return Object.fromEntries(Object.entries(TABLE_NAMES).map(([key, name]) => [key, qualify(name)])) as unknown as Tables;
}

/** The writer's lease: one row while a re-index runs. */
export function writerStatements(TABLES: Tables, schema?: string): string[] {
  return [
    ...(schema === undefined ? [] : [`CREATE SCHEMA IF NOT EXISTS ${schema}`]),
    `CREATE TABLE IF NOT EXISTS ${TABLES.writer} (
       id boolean PRIMARY KEY DEFAULT true CHECK (id),
       holder text NOT NULL,
       expires timestamptz NOT NULL)`,
  ];
}

/**
 * Creates what is missing; safe to run before every re-index. Vectors are `vector(dimensions)`
 * with HNSW indexes for cosine distance; rows belong to a shard (one source version) and go with it.
 */
export function schemaStatements(dimensions: number, TABLES: Tables, schema?: string): string[] {
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new Error(`Invalid vector size ${dimensions}`);
  // Index names live in the table's schema and must not be qualified.
  const bare = (name: string) => name.slice(name.lastIndexOf('.') + 1);
  return [
    'CREATE EXTENSION IF NOT EXISTS vector',
    ...(schema === undefined ? [] : [`CREATE SCHEMA IF NOT EXISTS ${schema}`]),
    `CREATE TABLE IF NOT EXISTS ${TABLES.generations} (
       name text PRIMARY KEY,
       manifest jsonb NOT NULL,
       created timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.current} (
       id boolean PRIMARY KEY DEFAULT true CHECK (id),
       generation text NOT NULL REFERENCES ${TABLES.generations} (name))`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.shards} (
       id bigserial PRIMARY KEY,
       source_id text NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.generationShards} (
       generation text NOT NULL REFERENCES ${TABLES.generations} (name) ON DELETE CASCADE,
       source_id text NOT NULL,
       shard bigint NOT NULL REFERENCES ${TABLES.shards} (id),
       PRIMARY KEY (generation, source_id))`,
    `CREATE INDEX IF NOT EXISTS ${bare(TABLES.generationShards)}_shard ON ${TABLES.generationShards} (shard)`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.sentences} (
       shard bigint NOT NULL REFERENCES ${TABLES.shards} (id) ON DELETE CASCADE,
       sentence integer NOT NULL,
       record jsonb NOT NULL,
       embedding vector(${dimensions}) NOT NULL,
       context vector(${dimensions}) NOT NULL,
       tokens bytea,
       PRIMARY KEY (shard, sentence))`,
    // Tables made before sentences kept their word-piece vectors (tokenVectors.ts); their rows hold none.
    `ALTER TABLE ${TABLES.sentences} ADD COLUMN IF NOT EXISTS tokens bytea`,
    `CREATE INDEX IF NOT EXISTS ${bare(TABLES.sentences)}_embedding ON ${TABLES.sentences} USING hnsw (embedding vector_cosine_ops)`,
    `CREATE INDEX IF NOT EXISTS ${bare(TABLES.sentences)}_context ON ${TABLES.sentences} USING hnsw (context vector_cosine_ops)`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.chunks} (
       shard bigint NOT NULL REFERENCES ${TABLES.shards} (id) ON DELETE CASCADE,
       chunk integer NOT NULL,
       first_sentence integer NOT NULL,
       last_sentence integer NOT NULL,
       record jsonb NOT NULL,
       embedding vector(${dimensions}) NOT NULL,
       PRIMARY KEY (shard, chunk))`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.terms} (
       shard bigint NOT NULL REFERENCES ${TABLES.shards} (id) ON DELETE CASCADE,
       term text NOT NULL,
       sentences integer NOT NULL,
       PRIMARY KEY (shard, term))`,
    `CREATE INDEX IF NOT EXISTS ${bare(TABLES.terms)}_term ON ${TABLES.terms} (term)`,
  ];
}
