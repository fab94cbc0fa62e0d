import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { convertToMarkdown, needsConversion } from './convert/index.ts';
import { parseSource, SourceError } from './parseSource.ts';
import type { LoadedSources, SourceDocument, SourceProblem } from './types.ts';

export class SourcesNotFoundError extends Error {
  override name = 'SourcesNotFoundError';
  constructor(readonly dir: string) {
    super(`Sources folder not found: ${dir}`);
  }
}

export interface LoadSourcesOptions {
  readonly maxBytes: number;
  /** Lists one folder; tests hand in one that fails for a folder, as permissions would. */
  readonly readDirectory?: (dir: string) => Promise<Dirent[]>;
}

/**
 * Where the Markdown converted from a web page, PDF or Word file in `dir` is stored: quotes are
 * cut from it, so it is kept as a file anyone can open. The folder is hidden, so it is never read
 * as a source itself.
 */
export const CONVERTED_FOLDER = '.converted';

/** Writes the converted text only when it differs, through a temporary file, so a reader never sees half of it. */
async function storeConverted(dir: string, id: string, markdown: string): Promise<string> {
  const file = path.join(dir, CONVERTED_FOLDER, `${id}.md`);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current !== markdown) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, markdown);
    await rename(`${file}.tmp`, file);
  }
  return file;
}

const listFolder = (dir: string) => readdir(dir, { withFileTypes: true });

const SOURCE_EXTENSIONS = new Set(['.md', '.markdown', '.txt', '.html', '.htm', '.pdf', '.docx']);

/**
 * The article files under `dir`, and the symbolic links among them that are not followed: a link
 * to a file is read like the file, a link to a folder or to nothing is reported rather than
 * silently left out.
 */
async function listSourceFiles(
  dir: string,
  readDirectory: (dir: string) => Promise<Dirent[]>,
): Promise<{ files: string[]; links: { file: string; reason: string }[]; folders: { file: string; reason: string }[] }> {
  const files: string[] = [];
  const links: { file: string; reason: string }[] = [];
  // A folder that cannot be listed is reported, and the rest are read as usual.
  const folders: { file: string; reason: string }[] = [];
  const entries: Dirent[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    try {
      for (const entry of await readDirectory(folder)) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) pending.push(path.join(folder, entry.name));
        else entries.push(entry);
      }
    } catch (error) {
      if (folder === dir) throw error;
      folders.push({
        file: folder,
        reason: `is a folder that cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the articles in it keep their previous version`,
      });
    }
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) {
      const target = await stat(file).catch(() => undefined);
      if (target === undefined) links.push({ file, reason: 'is a symbolic link to nothing (broken link)' });
      else if (target.isDirectory())
        links.push({ file, reason: 'is a symbolic link to a folder, which is not followed (link the files, or move the folder in)' });
      else if (target.isFile() && SOURCE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) files.push(file);
    } else if (entry.isFile() && SOURCE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      files.push(file);
    }
  }
  return { files: files.sort(), links, folders };
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative.split(path.sep).join('/');
}

/**
 * Reads every article under `dir`. Web pages, PDFs and Word files are converted to Markdown first,
 * stored under `.converted/`. A file that cannot be used is reported in `problems` and skipped; it
 * never stops the others from loading.
 */
export async function loadSources(dir: string, options: LoadSourcesOptions): Promise<LoadedSources> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new SourcesNotFoundError(dir);
  const documents: SourceDocument[] = [];
  const problems: SourceProblem[] = [];
  const { files, links, folders } = await listSourceFiles(dir, options.readDirectory ?? listFolder);
  for (const { file, reason } of links) {
    problems.push({ id: path.relative(dir, file).split(path.sep).join('/'), path: displayPath(file), reason });
  }
  for (const { file, reason } of folders) {
    problems.push({ id: `${path.relative(dir, file).split(path.sep).join('/')}/`, path: displayPath(file), reason, folder: true });
  }
  for (const file of files) {
    const id = path.relative(dir, file).split(path.sep).join('/');
    const shown = displayPath(file);
    try {
      const { size } = await stat(file);
      if (size > options.maxBytes) {
        throw new SourceError(`is ${size.toLocaleString('en')} bytes, over the ${options.maxBytes.toLocaleString('en')}-byte limit (MAX_SOURCE_BYTES)`);
      }
      const bytes = await readFile(file);
      if (needsConversion(file)) {
        const stored = await storeConverted(dir, id, await convertToMarkdown(file, bytes));
        documents.push({ ...parseSource({ id, path: displayPath(stored), bytes: await readFile(stored) }), original: shown });
      } else {
        documents.push(parseSource({ id, path: shown, bytes }));
      }
    } catch (error) {
      if (!(error instanceof SourceError) && !isFsError(error)) throw error;
      problems.push({ id, path: shown, reason: error.message });
    }
  }
  return { documents, problems };
}

function isFsError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
