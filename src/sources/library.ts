import { createHash } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CONVERTED_FOLDER } from './loadSources.ts';
import { convertToMarkdown, needsConversion } from './convert/index.ts';
import { markdownFile } from './convert/markdown.ts';
import { parseSource, SourceError } from './parseSource.ts';

/** Where removed articles go: nothing an admin removes is deleted. */
export const REMOVED_FOLDER = '.removed';

/** File kinds an admin can add. */
export const ADDABLE_EXTENSIONS = ['.md', '.txt', '.html', '.htm', '.pdf', '.docx'] as const;

export interface NewDocument {
  /** The file name it came with (an attachment's, or one made from a URL's content type). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The page it was fetched from, kept in front matter so citations can link to it. */
  readonly url?: string;
}

export interface AddedFile {
  /** The new source's id (its path under the sources folder). */
  readonly id: string;
  readonly file: string;
  readonly title: string;
}

/** A file name from a title: lower-case words joined by hyphens, short enough for any file system. */
export function fileNameFor(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return `${slug || 'article'}.md`;
}

/** The Markdown to store for a new document: converted, or as given with its address added to the front matter. */
async function storedMarkdown(document: NewDocument): Promise<string> {
  const extension = path.extname(document.name).toLowerCase();
  if (!(ADDABLE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new SourceError(`is a ${extension || 'extension-less'} file; Docent reads ${ADDABLE_EXTENSIONS.join(', ')}`);
  }
  if (needsConversion(document.name)) return convertToMarkdown(document.name, document.bytes, document.url);
  const text = parseSource({ id: document.name, path: document.name, bytes: document.bytes });
  if (document.url === undefined || text.url !== undefined) return text.text;
  // A plain-text page fetched from an address: its text becomes the body under a small front matter.
  return markdownFile({ title: text.title, url: document.url }, text.text.slice(text.bodyStart));
}

/**
 * Writes a new article into the sources folder, named from its title. Another article is never
 * overwritten: a taken name gets a number, and a file identical to one already there is refused.
 */
export async function addDocument(sourcesDir: string, document: NewDocument, maxBytes: number): Promise<AddedFile> {
  if (document.bytes.byteLength > maxBytes) {
    throw new SourceError(
      `is ${document.bytes.byteLength.toLocaleString('en')} bytes, over the ${maxBytes.toLocaleString('en')}-byte limit (MAX_SOURCE_BYTES)`,
    );
  }
  const markdown = await storedMarkdown(document);
  const parsed = parseSource({ id: document.name, path: document.name, bytes: Buffer.from(markdown) });
  const name = fileNameFor(parsed.title);
  await mkdir(sourcesDir, { recursive: true });
  const base = name.replace(/\.md$/, '');
  for (let n = 1; n < 1000; n++) {
    const file = path.join(sourcesDir, n === 1 ? name : `${base}-${n}.md`);
    const existing = await readFile(file).catch(() => undefined);
    if (existing !== undefined) {
      if (sameText(existing, markdown)) throw new SourceError(`is already in the sources as ${path.basename(file)}`);
      continue;
    }
    // Written aside, then linked into place: link fails if the name was taken meanwhile, so nothing is overwritten.
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, markdown);
    try {
      await link(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    return { id: path.basename(file), file, title: parsed.title };
  }
  throw new SourceError(`could not be given a free file name (${name} and 998 numbered ones are taken)`);
}

const sameText = (bytes: Uint8Array, text: string) => createHash('sha256').update(bytes).digest('hex') === createHash('sha256').update(text).digest('hex');

/** An id that is not a source in the folder (or reaches outside it). */
export class UnknownSourceError extends Error {
  override name = 'UnknownSourceError';
  constructor(readonly id: string) {
    super(`There is no source ${id} in the sources folder.`);
  }
}

/**
 * Moves an article (and the Markdown stored for it, if it was converted) into `.removed/`, under
 * a time-stamped name so removing a file of the same name again never overwrites the first.
 */
export async function removeDocument(sourcesDir: string, id: string, now = new Date()): Promise<string> {
  const file = path.resolve(sourcesDir, id);
  const inside = path.relative(path.resolve(sourcesDir), file);
  if (inside.startsWith('..') || path.isAbsolute(inside) || inside.split(path.sep).some((part) => part.startsWith('.'))) throw new UnknownSourceError(id);
  if (!(await stat(file).catch(() => undefined))?.isFile()) throw new UnknownSourceError(id);
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const destination = path.join(sourcesDir, REMOVED_FOLDER, `${stamp}-${inside.split(path.sep).join('__')}`);
  await mkdir(path.dirname(destination), { recursive: true });
  await rename(file, destination);
  const converted = path.join(sourcesDir, CONVERTED_FOLDER, `${id}.md`);
  await rename(converted, `${destination}.converted.md`).catch(() => undefined);
  return destination;
}
