import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSources } from '../../src/sources/loadSources.ts';
import { parseSource, SourceError } from '../../src/sources/parseSource.ts';

const parse = (content: string | Uint8Array, id = 'article.md') =>
  parseSource({ id, path: `sources/${id}`, bytes: typeof content === 'string' ? Buffer.from(content, 'utf8') : content });

describe('parseSource', () => {
  it('reads title, date, outlet and url from front matter, and the body after it', () => {
    const text = [
      '---',
      'title: "Talks in Istanbul"',
      'date: 2025-04-10',
      'outlet: The Courier',
      'url: https://example.org/talks',
      '---',
      '',
      'Delegations met on Thursday.',
      '',
    ].join('\n');
    const doc = parse(text);
    expect(doc).toMatchObject({
      id: 'article.md',
      path: 'sources/article.md',
      title: 'Talks in Istanbul',
      date: '2025-04-10',
      outlet: 'The Courier',
      url: 'https://example.org/talks',
    });
    expect(doc.text).toBe(text);
    expect(doc.text.slice(doc.bodyStart).trim()).toBe('Delegations met on Thursday.');
    expect(doc.text.slice(0, doc.bodyStart)).toContain('url: https://example.org/talks');
    expect(doc.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a date that does not exist rather than rolling it over', () => {
    expect(() => parse('---\ndate: 2025-13-45\n---\nBody.')).toThrow(/front matter "date" 2025-13-45 is not a real date \(use YYYY-MM-DD\)/);
    expect(() => parse('---\ndate: 2025-02-30\n---\nBody.')).toThrow(/2025-02-30 is not a real date/);
    expect(parse('---\ndate: 2024-02-29\n---\nBody.').date).toBe('2024-02-29');
  });

  it('turns a YAML timestamp into YYYY-MM-DD and keeps a quoted date as written', () => {
    expect(parse('---\ndate: 2024-12-31T10:00:00Z\n---\nBody.').date).toBe('2024-12-31');
    expect(parse('---\ndate: "April 2025"\n---\nBody.').date).toBe('April 2025');
    expect(parse('Body without front matter.').date).toBeUndefined();
  });

  it('falls back to the first Markdown heading, then to the file name', () => {
    expect(parse('---\ndate: 2025-01-02\n---\nIntro line.\n\n## The Real Title ##\n\nText.').title).toBe('The Real Title');
    expect(parse('# Heading Title\n\nText.').title).toBe('Heading Title');
    expect(parse('Just text, no heading.', 'sub/my-great_article.md').title).toBe('my great article');
    expect(parse('#hashtag is not a heading.', 'notes.txt').title).toBe('notes');
  });

  it('reads a .txt file without front matter whole', () => {
    const doc = parse('Plain text article.\nSecond line.', 'plain.txt');
    expect(doc.bodyStart).toBe(0);
    expect(doc.text).toBe('Plain text article.\nSecond line.');
    expect(doc.title).toBe('plain');
    expect(doc.outlet).toBeUndefined();
  });

  it('normalises to NFC, so a decomposed é becomes the composed one', () => {
    const doc = parse('Cafe\u0301 society.');
    expect(doc.text).toBe('Caf\u00e9 society.');
    expect(doc.text).not.toContain('\u0301');
    expect(doc.hash).toBe(parse('Caf\u00e9 society.').hash);
  });

  it('keeps a byte-order mark, so offsets match the file as read, and still sees the front matter', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('---\ntitle: With BOM\n---\nBody.')]);
    const doc = parse(bytes);
    expect(doc.text).toBe(bytes.toString('utf8'));
    expect(doc.text.startsWith('\uFEFF---')).toBe(true);
    expect(doc.title).toBe('With BOM');
    expect(doc.text.slice(doc.bodyStart)).toBe('Body.');
  });

  it('reads UTF-16 files with a byte-order mark as text', () => {
    const body = '---\ntitle: Wide\n---\nUTF-16 café text.';
    const little = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]);
    const big = Buffer.from(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]).swap16());
    for (const bytes of [little, big]) {
      const doc = parse(bytes);
      expect(doc.title).toBe('Wide');
      expect(doc.text.slice(doc.bodyStart)).toBe('UTF-16 café text.');
    }
  });

  it('keeps CRLF files byte-exact, with bodyStart just after the front matter', () => {
    const text = '---\r\ntitle: Windows\r\noutlet: Desk\r\n---\r\nFirst line.\r\nSecond line.\r\n';
    const doc = parse(text);
    expect(doc.text).toBe(text);
    expect(doc.title).toBe('Windows');
    expect(doc.outlet).toBe('Desk');
    expect(doc.text.slice(doc.bodyStart)).toBe('First line.\r\nSecond line.\r\n');
    expect(doc.text.indexOf('Second line.')).toBe(text.indexOf('Second line.'));
  });

  it.each([
    ['an empty file', '', /empty/],
    ['a whitespace-only body', ' \n\t\n  \n', /empty/],
    ['front matter only', '---\ntitle: Nothing else\n---\n', /empty/],
    ['front matter followed by blank lines', '---\ntitle: Nothing else\n---\n\n\n   \n', /empty/],
    ['broken YAML', '---\ntitle: [unclosed\n---\nBody.', /broken front matter/],
    ['front matter that is a list', '---\n- one\n- two\n---\nBody.', /not a set of key: value pairs/],
    ['a title that is a list', '---\ntitle:\n  - a\n  - b\n---\nBody.', /"title" must be text, got a list/],
  ])('rejects %s with a SourceError', (_label, content, reason) => {
    expect(() => parse(content)).toThrow(SourceError);
    expect(() => parse(content)).toThrow(reason);
  });

  it('rejects binary files and invalid UTF-8', () => {
    expect(() => parse(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x41]))).toThrow(/binary file \(contains NUL bytes\)/);
    expect(() => parse(new Uint8Array([0x48, 0x69, 0x20, 0xc3, 0x28, 0x21]))).toThrow(/not valid UTF-8/);
  });
});

describe('loadSources', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docent-sources-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, content: string | Uint8Array) => {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  };

  it('loads good files, skips bad ones with a reason, and ignores non-source files', async () => {
    await write('good.md', '---\ntitle: Good\n---\nA good article.');
    await write('plain.txt', 'A plain text article.');
    await write('long.markdown', '# Long form\n\nText.');
    await write('UPPER.MD', 'Upper-case extension.');
    await write('sub/deeper/nested.md', 'Nested article.');
    await write('empty.md', '');
    await write('blank.md', '\n   \n\t\n');
    await write('only-front.md', '---\ntitle: Only\n---\n');
    await write('binary.md', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x00, 0x0d]));
    await write('latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    await write('broken.md', '---\ntitle: "unterminated\nfoo: [\n---\nBody.');
    await write('list.md', '---\n- a\n- b\n---\nBody.');
    await write('image.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00]));
    await write('data.json', '{"title": "not an article"}');
    await write('README', 'no extension');
    await write('.hidden.md', 'A hidden draft.');

    const { documents, problems } = await loadSources(dir, { maxBytes: 10_000 });

    expect(documents.map((d) => d.id).sort()).toEqual(['UPPER.MD', 'good.md', 'long.markdown', 'plain.txt', 'sub/deeper/nested.md']);
    expect(documents.find((d) => d.id === 'sub/deeper/nested.md')?.path).toMatch(/sub\/deeper\/nested\.md$/);
    expect(documents.find((d) => d.id === 'long.markdown')?.title).toBe('Long form');

    const reasons = Object.fromEntries(problems.map((p) => [p.id, p.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['binary.md', 'blank.md', 'broken.md', 'empty.md', 'latin1.txt', 'list.md', 'only-front.md']);
    expect(reasons['empty.md']).toMatch(/empty/);
    expect(reasons['blank.md']).toMatch(/empty/);
    expect(reasons['only-front.md']).toMatch(/empty/);
    expect(reasons['binary.md']).toMatch(/binary/);
    expect(reasons['latin1.txt']).toMatch(/UTF-8/);
    expect(reasons['broken.md']).toMatch(/broken front matter/);
    expect(reasons['list.md']).toMatch(/key: value/);
    for (const problem of problems) expect(problem.path.endsWith(problem.id)).toBe(true);
  });

  it('skips a file over the size limit and says so', async () => {
    await write('small.md', 'Short.');
    await write('big.md', `${'word '.repeat(40)}`);
    const { documents, problems } = await loadSources(dir, { maxBytes: 100 });
    expect(documents.map((d) => d.id)).toEqual(['small.md']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ id: 'big.md' });
    expect(problems[0]!.reason).toMatch(/200 bytes, over the 100-byte limit \(MAX_SOURCE_BYTES\)/);
  });

  it('accepts a file of exactly maxBytes', async () => {
    await write('exact.md', 'x'.repeat(50));
    const { documents, problems } = await loadSources(dir, { maxBytes: 50 });
    expect(documents.map((d) => d.id)).toEqual(['exact.md']);
    expect(problems).toEqual([]);
  });

  it('reads a symbolic link to an article, and names links it does not follow', async () => {
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'docent-linked-'));
    await writeFile(path.join(elsewhere, 'shared.md'), 'An article kept elsewhere.');
    await mkdir(path.join(elsewhere, 'folder'));
    await write('real.md', 'A real article.');
    await symlink(path.join(elsewhere, 'shared.md'), path.join(dir, 'linked.md'));
    await symlink(path.join(elsewhere, 'folder'), path.join(dir, 'linked-folder'));
    await symlink(path.join(elsewhere, 'gone.md'), path.join(dir, 'dangling.md'));
    const { documents, problems } = await loadSources(dir, { maxBytes: 1_000 });
    expect(documents.map((d) => [d.id, d.text])).toEqual([
      ['linked.md', 'An article kept elsewhere.'],
      ['real.md', 'A real article.'],
    ]);
    expect(Object.fromEntries(problems.map((p) => [p.id, p.reason]))).toEqual({
      'linked-folder': expect.stringMatching(/symbolic link to a folder, which is not followed/),
      'dangling.md': expect.stringMatching(/broken link/),
    });
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('reports a folder it cannot read and reads every other one', async () => {
    await write('top.md', 'A top-level article.');
    await write('locked/inside.md', 'An article in a folder that cannot be read.');
    await write('open/fine.md', 'An article in a readable folder.');
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const { documents, problems } = await loadSources(dir, {
      maxBytes: 1_000,
      readDirectory: async (folder) => {
        if (folder.endsWith('locked')) throw denied;
        return readdir(folder, { withFileTypes: true });
      },
    });
    expect(documents.map((d) => d.id)).toEqual(['open/fine.md', 'top.md']);
    expect(problems).toEqual([
      { id: 'locked/', path: expect.stringMatching(/locked$/), reason: expect.stringMatching(/folder that cannot be read \(EACCES\)/), folder: true },
    ]);
  });

  it('returns nothing for an empty folder', async () => {
    expect(await loadSources(dir, { maxBytes: 100 })).toEqual({ documents: [], problems: [] });
  });

  it('throws a clear error for a missing sources folder or a file in its place', async () => {
    const missing = path.join(dir, 'does-not-exist');
    await expect(loadSources(missing, { maxBytes: 100 })).rejects.toThrow(`Sources folder not found: ${missing}`);
    await write('a-file.md', 'text');
    await expect(loadSources(path.join(dir, 'a-file.md'), { maxBytes: 100 })).rejects.toThrow(/Sources folder not found/);
  });
});
