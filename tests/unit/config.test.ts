import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { engineConfigSchema } from '../../src/config/schema.ts';

function configError(env: Record<string, string | undefined>, overrides: Record<string, unknown> = {}): ConfigError {
  try {
    parseConfig(engineConfigSchema, env, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('engine configuration', () => {
  it('has defaults for every setting', () => {
    expect(parseConfig(engineConfigSchema, {})).toEqual({
      SOURCES_DIR: 'sources',
      INDEX_DIR: 'index',
      MODEL_ID: 'sentence-transformers/all-MiniLM-L6-v2',
      MODEL_HUB_URL: 'https://huggingface.co/',
      MODEL_CACHE_DIR: '.cache/models',
      EMBED_BATCH_SIZE: 32,
      MAX_SOURCE_BYTES: 5_000_000,
      CHUNK_OVERLAP_SENTENCES: 1,
      FEEDBACK_LOG: 'data/feedback.jsonl',
      GAPS_LOG: 'data/gaps.jsonl',
      AUDIT_LOG: 'data/audit.jsonl',
      FETCH_TIMEOUT_MS: 15_000,
      FETCH_MAX_REDIRECTS: 5,
      ALLOW_LOOPBACK_URLS: false,
      MAX_QUOTES: 3,
      MAX_QUOTE_CHARS: 400,
    });
  });

  it('coerces environment strings to numbers and ignores unrelated variables', () => {
    const config = parseConfig(engineConfigSchema, {
      EMBED_BATCH_SIZE: '64',
      MAX_SOURCE_BYTES: '1000',
      CHUNK_OVERLAP_SENTENCES: '0',
      MAX_QUOTES: '10',
      MAX_QUOTE_CHARS: '80',
      SOURCES_DIR: 'articles',
      PATH: '/usr/bin',
    });
    expect(config).toMatchObject({
      EMBED_BATCH_SIZE: 64,
      MAX_SOURCE_BYTES: 1000,
      CHUNK_OVERLAP_SENTENCES: 0,
      MAX_QUOTES: 10,
      MAX_QUOTE_CHARS: 80,
      SOURCES_DIR: 'articles',
    });
    expect(config).not.toHaveProperty('PATH');
  });

  it('lets flags override the environment; undefined flags do not', () => {
    const config = parseConfig(
      engineConfigSchema,
      { SOURCES_DIR: 'from-env', INDEX_DIR: 'env-index', MAX_QUOTES: '2' },
      { SOURCES_DIR: 'from-flag', INDEX_DIR: undefined, MAX_QUOTES: 5 },
    );
    expect(config.SOURCES_DIR).toBe('from-flag');
    expect(config.INDEX_DIR).toBe('env-index');
    expect(config.MAX_QUOTES).toBe(5);
  });

  it('treats blank environment variables as unset', () => {
    const config = parseConfig(engineConfigSchema, { EMBED_BATCH_SIZE: '', MAX_QUOTES: '   ', SOURCES_DIR: '', INDEX_DIR: undefined });
    expect(config.EMBED_BATCH_SIZE).toBe(32);
    expect(config.MAX_QUOTES).toBe(3);
    expect(config.SOURCES_DIR).toBe('sources');
    expect(config.INDEX_DIR).toBe('index');
  });

  it.each([
    ['EMBED_BATCH_SIZE', 'abc', /^EMBED_BATCH_SIZE must be a whole number \(got "abc"\)$/],
    ['EMBED_BATCH_SIZE', '2.5', /^EMBED_BATCH_SIZE must be a whole number \(got "2.5"\)$/],
    ['EMBED_BATCH_SIZE', '257', /^EMBED_BATCH_SIZE must be at most 256 \(got "257"\)$/],
    ['MAX_QUOTES', '0', /^MAX_QUOTES must be at least 1 \(got "0"\)$/],
    ['MAX_QUOTES', '11', /^MAX_QUOTES must be at most 10/],
    ['MAX_QUOTE_CHARS', '50', /^MAX_QUOTE_CHARS must be at least 80 \(got "50"\)$/],
    ['CHUNK_OVERLAP_SENTENCES', '9', /^CHUNK_OVERLAP_SENTENCES must be at most 5 \(got "9"\)$/],
    ['CHUNK_OVERLAP_SENTENCES', '-1', /^CHUNK_OVERLAP_SENTENCES must be 0 or more/],
    ['MAX_SOURCE_BYTES', 'lots', /^MAX_SOURCE_BYTES must be a whole number/],
  ])('rejects %s=%s with a message naming the setting and what it allows', (name, value, expected) => {
    const error = configError({ [name]: value });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(expected);
    expect(error.message).toContain(error.issues[0]);
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('rejects a bad flag value too', () => {
    const error = configError({}, { MAX_QUOTES: 0 });
    expect(error.issues).toEqual(['MAX_QUOTES must be at least 1 (got 0)']);
  });

  it('reports several bad settings at once', () => {
    const error = configError({ EMBED_BATCH_SIZE: 'abc', MAX_QUOTES: '0', MAX_QUOTE_CHARS: '50', CHUNK_OVERLAP_SENTENCES: '9' });
    expect(error.issues).toHaveLength(4);
    for (const name of ['EMBED_BATCH_SIZE', 'MAX_QUOTES', 'MAX_QUOTE_CHARS', 'CHUNK_OVERLAP_SENTENCES']) {
      expect(error.issues.filter((issue) => issue.startsWith(`${name} `))).toHaveLength(1);
      expect(error.message).toContain(name);
    }
  });
});

describe('secrets in configuration errors', () => {
  const schema = z.object({
    DISCORD_TOKEN: z.string().min(50, 'DISCORD_TOKEN looks too short to be a bot token'),
    APP_ID: z.string().regex(/^\d+$/, 'must be a numeric id'),
  });

  it('never echoes the value of a TOKEN setting, but does echo ordinary ones', () => {
    const secret = 'hunter2-super-secret-value';
    let caught: unknown;
    try {
      parseConfig(schema, { DISCORD_TOKEN: secret, APP_ID: 'abc' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.issues).toEqual(['DISCORD_TOKEN looks too short to be a bot token', 'APP_ID: must be a numeric id (got "abc")']);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('hunter2');
  });

  it('names a missing required setting', () => {
    let caught: unknown;
    try {
      parseConfig(schema, { APP_ID: '123' });
    } catch (error) {
      caught = error;
    }
    expect((caught as ConfigError).issues).toHaveLength(1);
    expect((caught as ConfigError).issues[0]).toMatch(/^DISCORD_TOKEN: /);
  });

  it('returns the parsed values when they are valid', () => {
    const token = 'x'.repeat(60);
    expect(parseConfig(schema, { DISCORD_TOKEN: token, APP_ID: '42' })).toEqual({ DISCORD_TOKEN: token, APP_ID: '42' });
  });
});
