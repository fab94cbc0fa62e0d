import { createHash } from 'node:crypto';
import matter from 'gray-matter';
import { pageStarts } from './pages.ts';
import type { SourceDocument } from './types.ts';

/** Why a file was rejected; the message is shown to the admin as is. */
export class SourceError extends Error {
  override name = 'SourceError';
}

export interface RawSource {
  readonly id: string;
  readonly path: string;
  readonly bytes: Uint8Array;
}

/**
 * A byte-order mark is kept as the text's first character, so offsets match the file as
 * `readFileSync(file, 'utf8')` reads it; front matter and body are found after it.
 */
function decode(bytes: Uint8Array): string {
  // Windows tools save UTF-16 with a byte-order mark; it is text, not a binary.
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined;
  if (utf16) {
    try {
      return new TextDecoder(utf16, { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new SourceError(`is not valid ${utf16.toUpperCase()} text`);
    }
  }
  // NUL bytes never occur in text articles but are typical of binaries that happen to be valid UTF-8.
  if (bytes.includes(0)) throw new SourceError('looks like a binary file (contains NUL bytes)');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SourceError('is not valid UTF-8 text');
  }
}

function optionalString(data: Record<string, unknown>, key: string, frontMatter = ''): string | undefined {
  const value = data[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new SourceError(`front matter "${key}" is not a valid date`);
    const day = value.toISOString().slice(0, 10);
    // YAML rolls an impossible date over (2025-13-45 becomes 2026-02-14); what was written must be the day read.
    const written = new RegExp(`^${key}:[ \t]*['"]?(\\d{4}-\\d{2}-\\d{2})`, 'm').exec(frontMatter)?.[1];
    if (written !== undefined && written !== day) throw new SourceError(`front matter "${key}" ${written} is not a real date (use YYYY-MM-DD)`);
    return day;
  }
  if (typeof value === 'string' || typeof value === 'number') return String(value).trim();
  throw new SourceError(`front matter "${key}" must be text, got ${Array.isArray(value) ? 'a list' : typeof value}`);
}

function splitFrontMatter(text: string): { data: Record<string, unknown>; bodyStart: number } {
  if (!/^---[ \t]*\r?\n/.test(text)) return { data: {}, bodyStart: 0 };
  let parsed: matter.GrayMatterFile<string>;
  try {
    // gray-matter caches by input string; an empty options object turns the cache off.
    parsed = matter(text, {});
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new SourceError(`has broken front matter: ${detail}`);
  }
  if (parsed.data === null || typeof parsed.data !== 'object' || Array.isArray(parsed.data)) {
    throw new SourceError('has front matter that is not a set of key: value pairs');
  }
  if (!text.endsWith(parsed.content)) throw new SourceError('has front matter that could not be located');
  return { data: parsed.data as Record<string, unknown>, bodyStart: text.length - parsed.content.length };
}

function firstHeading(body: string): string | undefined {
  const match = /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(body);
  return match?.[1]?.trim() || undefined;
}

function titleFromFileName(id: string): string {
  const base = id.split('/').pop() ?? id;
  return (
    base
      .replace(/\.(md|markdown|txt)$/i, '')
      .replace(/[-_]+/g, ' ')
      .trim() || base
  );
}

/** Turns a file's bytes into a SourceDocument, or throws a SourceError saying what is wrong. */
export function parseSource(raw: RawSource): SourceDocument {
  const text = decode(raw.bytes).normalize('NFC');
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const afterBom = splitFrontMatter(text.slice(bom));
  const { data } = afterBom;
  const bodyStart = afterBom.bodyStart + bom;
  const body = text.slice(bodyStart);
  if (body.trim() === '') throw new SourceError('is empty (no text after any front matter)');
  const pages = pageStarts(text);
  return {
    id: raw.id,
    path: raw.path,
    title: optionalString(data, 'title') ?? firstHeading(body) ?? titleFromFileName(raw.id),
    date: optionalString(data, 'date', text.slice(0, bodyStart)),
    outlet: optionalString(data, 'outlet'),
    url: optionalString(data, 'url'),
    ...(pages.length > 0 ? { pageStarts: pages } : {}),
    text,
    bodyStart,
    hash: createHash('sha256').update(text).digest('hex'),
  };
}
