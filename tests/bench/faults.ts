/**
 * `npm run bench:faults`: a campaign of bad inputs and faults against the real engine, counting
 * crashes (an exception the engine did not turn into an answer, a skipped file or a worded error)
 * and broken promises (a quote that is not an exact slice of its file). Not a test: it takes a few
 * minutes and reports counts.
 *
 * - 1,000 adversarial questions (control characters, markup, mentions, huge and empty ones).
 * - 30 malformed sources indexed beside the seeds.
 * - 10 `kill -9`s of `docent index` mid-run, each followed by a question and a recovery.
 * - A power cut: the newest generation's vectors truncated, then a question.
 * - A full disk: the index on a 2 MiB tmpfs (needs root to mount), re-indexed with the wiki
 *   articles added; the error must be worded and the previous index must keep answering.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.ts';
import { engineConfigSchema } from '../../src/config/schema.ts';
import { type Answer, IndexWriteError, openDocent, type ReindexSummary } from '../../src/docent.ts';
import { defaultModelCacheDir } from '../../src/embeddings/minilm/modelFolder.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WIKI_ARTICLES = path.resolve(REPO_ROOT, '..', 'shared', 'eval', 'squadshifts-new-wiki', 'articles');

const work = await mkdtemp(path.join(tmpdir(), 'docent-faults-'));
const sourcesDir = path.join(work, 'sources');
const indexDir = path.join(work, 'index');
await cp(path.join(REPO_ROOT, 'sources'), sourcesDir, { recursive: true });
const config = parseConfig(engineConfigSchema, {
  SOURCES_DIR: sourcesDir,
  INDEX_DIR: indexDir,
  MODEL_CACHE_DIR: defaultModelCacheDir(),
  MAX_SOURCE_BYTES: '200000',
  GAPS_LOG: path.join(work, 'gaps.jsonl'),
});

let crashes = 0;
let inexact = 0;
const crash = (what: string, error: unknown) => {
  crashes++;
  process.stderr.write(`CRASH ${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
};

/** A file's text as Docent stores it: UTF-16 by its byte-order mark, else UTF-8 (a BOM kept); NFC. */
function storedText(bytes: Buffer): string {
  const encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : 'utf-8';
  return new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes).normalize('NFC');
}

/** Every quote, less its ellipses, is exactly the stored slice of its file. */
async function checkExact(answer: Answer): Promise<void> {
  for (const quote of answer.quotes) {
    const text = storedText(await readFile(path.resolve(quote.source.path)));
    if (text.slice(quote.start, quote.end) !== quote.text.replace(/^…/, '').replace(/…$/, '')) {
      if (inexact++ < 5)
        process.stderr.write(
          `INEXACT ${quote.source.path}@${quote.start}: ${JSON.stringify(quote.text.slice(0, 80))} vs ${JSON.stringify(text.slice(quote.start, quote.start + 80))}\n`,
        );
    }
  }
}

// 30 malformed sources.
const bad: Record<string, string | Uint8Array> = {
  'binary.md': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]),
  'latin1.md': new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]),
  'utf16-no-bom.md': Buffer.from('Hello in UTF-16', 'utf16le'),
  'utf16-bom.md': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('# Wide\n\nA UTF-16 article.', 'utf16le')]),
  'bom.md': `\uFEFF---\ntitle: BOM\n---\nA sentence after a byte-order mark.`,
  'empty.md': '',
  'blank.md': '\n \t\n',
  'only-front.md': '---\ntitle: x\n---\n',
  'broken-yaml.md': '---\ntitle: [unclosed\n---\nBody.',
  'list-yaml.md': '---\n- a\n---\nBody.',
  'unterminated-front.md': '---\ntitle: never closed\nBody.',
  'bad-date.md': '---\ndate: 2025-13-45\n---\nBody.',
  'text-date.md': '---\ndate: not-a-date\n---\nBody with a text date.',
  'title-list.md': '---\ntitle: [a, b]\n---\nBody.',
  'lone-cr.md': '# Old Mac\r\rA line.\rAnother line.\r',
  'crlf.md': '# Windows\r\n\r\nA sentence. Another.\r\n',
  'nul-in-middle.md': 'Text\u0000more text.',
  'control-chars.md': 'Red \u001b[31malert\u001b[0m and a bell \u0007 here.',
  'one-huge-line.md': `${'word '.repeat(20_000)}.`,
  'no-punctuation.md': 'just words without any end '.repeat(200),
  'too-big.md': 'x'.repeat(300_000),
  'mentions.md': 'Ping <@!123456789012345678> and @everyone about <#123> now! Then <@&42>.',
  'markdown-heavy.md': '# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconst x = 1;\n```\n\n> quoted\n\n- item\n- item',
  'emoji.md': 'Emoji 👩‍👩‍👧‍👦 and combining e\u0301 and RTL שלום text.',
  'deep/a/b/c/d/e/nested.md': 'A deeply nested article.',
  'weird name (1) [draft].md': 'A file with a strange name.',
  'only-heading.md': '# Just a heading',
  'yaml-anchors.md': '---\na: &x [1, 2]\nb: *x\ntitle: anchors\n---\nBody.',
  'long-title.md': `---\ntitle: "${'T'.repeat(5000)}"\n---\nBody.`,
};
for (const [name, content] of Object.entries(bad)) {
  await mkdir(path.dirname(path.join(sourcesDir, name)), { recursive: true });
  await writeFile(path.join(sourcesDir, name), content);
}
await symlink(path.join(work, 'nowhere.md'), path.join(sourcesDir, 'dangling-link.md'));
process.stderr.write(`Indexing the seeds with ${Object.keys(bad).length + 1} malformed sources…\n`);
const docent = await openDocent(config);
let summary: ReindexSummary | undefined;
try {
  summary = await docent.reindex();
} catch (error) {
  crash('re-index with malformed sources', error);
}

const indexedBad = docent.sources().sources.filter((source) => source.id in bad).length;

// 1,000 adversarial questions.
const pieces = [
  'Who led the talks in Istanbul?',
  '\u0000\u0001\u001b[2J',
  '<@!123456789012345678>',
  '@everyone',
  '**bold** _it_ `code` [link](http://x)',
  "'; DROP TABLE docent_sentences; --",
  '👩‍👩‍👧‍👦',
  'e\u0301',
  '\uFEFF',
  '\uD800',
  '   ',
  '?'.repeat(50),
  'Russia Russian Russia’s',
  'what when where who how many',
  'a'.repeat(2000),
];
let answered = 0;
for (let i = 0; i < 1000; i++) {
  const parts = Array.from({ length: 1 + (i % 4) }, (_, j) => pieces[(i * 7 + j * 3) % pieces.length]!);
  const question = i % 97 === 0 ? '' : parts.join(' ');
  try {
    const answer = await docent.ask(question);
    if (answer.answered) answered++;
    await checkExact(answer);
  } catch (error) {
    crash(`question ${JSON.stringify(question.slice(0, 60))}`, error);
  }
}
await docent.close();

// 10 kill -9s of `docent index --force` mid-run, each followed by a question from a fresh engine.
await cp(WIKI_ARTICLES, path.join(sourcesDir, 'wiki'), { recursive: true });
const env = { ...process.env, SOURCES_DIR: sourcesDir, INDEX_DIR: indexDir, MODEL_CACHE_DIR: config.MODEL_CACHE_DIR, MAX_SOURCE_BYTES: '200000' };
for (let kill = 0; kill < 10; kill++) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'index', '--force'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (/Embedding \d+/.test(stderr)) {
        clearInterval(check);
        setTimeout(resolve, 1000 + 500 * kill);
      }
    }, 50);
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  try {
    const engine = await openDocent(config);
    const answer = await engine.ask('Who led the talks in Istanbul?');
    await checkExact(answer);
    if (!answer.answered) crash(`after kill ${kill + 1}`, new Error('the seeds no longer answer'));
    await engine.close();
  } catch (error) {
    crash(`after kill ${kill + 1}`, error);
  }
}

// A power cut: the newest generation's files cut short.
try {
  const engine = await openDocent(config);
  await rm(path.join(sourcesDir, 'wiki'), { recursive: true });
  await engine.reindex();
  await engine.close();
  const shards = path.join(indexDir, 'shards');
  for (const shard of await readdir(shards)) await writeFile(path.join(shards, shard, 'vectors.bin'), '').catch(() => undefined);
  const recovered = await openDocent(config);
  const answer = await recovered.ask('Who led the talks in Istanbul?');
  await checkExact(answer);
  if (!answer.answered) crash('after the power cut', new Error('no answer'));
  await recovered.close();
} catch (error) {
  crash('power cut', error);
}

// A full disk: the seeds fit on the tmpfs, the seeds and the wiki articles do not.
let fullDisk = 'no full disk (mounting a tmpfs needs root)';
const smallDisk = path.join(work, 'small-disk');
await mkdir(smallDisk);
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', smallDisk], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (mounted) {
  const onSmallDisk = { ...config, INDEX_DIR: smallDisk, SOURCES_DIR: path.join(work, 'small-sources') };
  try {
    await cp(path.join(REPO_ROOT, 'sources'), onSmallDisk.SOURCES_DIR, { recursive: true });
    const engine = await openDocent(onSmallDisk);
    await engine.reindex();
    await cp(WIKI_ARTICLES, path.join(onSmallDisk.SOURCES_DIR, 'wiki'), { recursive: true });
    const failure = await engine.reindex().then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!(failure instanceof IndexWriteError) || !/the disk is full/.test(failure.message)) crash('full disk', failure ?? new Error('the re-index fit'));
    else fullDisk = `1 full disk ("${failure.message}")`;
    const answer = await engine.ask('Who led the talks in Istanbul?');
    await checkExact(answer);
    if (!answer.answered) crash('after the full disk', new Error('the seeds no longer answer'));
    await engine.close();
  } catch (error) {
    crash('full disk', error);
  } finally {
    execFileSync('umount', [smallDisk]);
  }
}

process.stdout.write(
  [
    `Fault campaign: ${Object.keys(bad).length + 1} malformed sources (${summary?.problems.length ?? '?'} reported and skipped, ${indexedBad} indexed),`,
    `1,000 adversarial questions (${answered} answered), 10 kill -9s during re-index, 1 power cut, ${fullDisk}.`,
    `crashes: ${crashes}   quotes not an exact slice of their file: ${inexact}`,
  ].join('\n') + '\n',
);
await rm(work, { recursive: true, force: true });
