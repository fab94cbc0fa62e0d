import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ConfigError } from '../config/load.ts';
import type { EngineConfig } from '../config/schema.ts';
import { type Docent, embedderFor, openDocent, readIndexManifest, reindexWithConfig, terminalUser } from '../docent.ts';
import { cliConfig, stderrEvents, stderrLog } from './context.ts';
import { engineErrorText } from '../wording/engine.ts';
import { problemsText, summaryText } from '../wording/reindexSummary.ts';
import { addedText, answerJson, answerText, gapsText, printable } from './format.ts';
import { progressRenderer } from './progress.ts';

const program = new Command('docent').description('Answers questions with verbatim, cited quotes from the articles in sources/.').showHelpAfterError();

program
  .command('index')
  .description('Build or update the search index from the sources folder')
  .option('--sources <dir>', 'folder of source articles (SOURCES_DIR)')
  .option('--index <dir>', 'index folder (INDEX_DIR)')
  .option('--force', 're-embed every source, even unchanged ones', false)
  .action(async (options: { sources?: string; index?: string; force: boolean }) => {
    const config = cliConfig({ SOURCES_DIR: options.sources, INDEX_DIR: options.index });
    const embedder = await embedderFor(config, stderrEvents);
    const progress = progressRenderer();
    try {
      const summary = await reindexWithConfig(config, embedder, { force: options.force, onProgress: progress.onProgress });
      progress.stop();
      problemsText(summary).forEach(stderrLog);
      process.stdout.write(`${summaryText(summary)}\n`);
    } finally {
      progress.stop();
      await embedder.dispose();
    }
  });

program
  .command('ask')
  .description('Answer a question with quotes from the sources (builds the index first if there is none)')
  .argument('[question...]', 'the question')
  .option('--index <dir>', 'index folder (INDEX_DIR)')
  .option('--sources <dir>', 'folder of source articles, used if the index must be built (SOURCES_DIR)')
  .option('--json', 'print one JSON object per question', false)
  .option('--stdin', 'read one question per line from standard input; print one JSON line per answer', false)
  .action(async (words: string[], options: { index?: string; sources?: string; json: boolean; stdin: boolean }) => {
    const question = words.join(' ').trim();
    if (!options.stdin && question === '') {
      throw new UsageError('Give a question, e.g. npm run ask -- "Who led the talks in Istanbul?" (or use --stdin).');
    }
    const config = cliConfig({ INDEX_DIR: options.index, SOURCES_DIR: options.sources });
    await withDocent(config, async (docent) => {
      if (options.stdin) {
        // One JSON line per input line, blank ones included, so answers line up with questions.
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
          process.stdout.write(`${JSON.stringify(answerJson(await docent.ask(line.trim())))}\n`);
        }
      } else {
        const answer = await docent.ask(question);
        process.stdout.write(options.json ? `${JSON.stringify(answerJson(answer), null, 2)}\n` : `${answerText(answer)}\n`);
      }
    });
  });

program
  .command('sources')
  .description('List the indexed articles with their chunk counts and when they were indexed')
  .option('--index <dir>', 'index folder (INDEX_DIR)')
  .option('--json', 'print JSON', false)
  .action(async (options: { index?: string; json: boolean }) => {
    const config = cliConfig({ INDEX_DIR: options.index });
    const manifest = await readIndexManifest(config);
    if (manifest === undefined)
      throw new UsageError(`There is no index in ${config.DATABASE_URL ? 'the database' : config.INDEX_DIR} yet. Run \`npm run index\` first.`);
    const { sources, builtAt } = manifest;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ builtAt, sources }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${sources.length} source(s), index built ${builtAt}\n`);
    for (const source of sources) {
      process.stdout.write(
        `- ${printable(source.title)}${source.date ? ` (${source.date})` : ''}\n  ${source.path} · ${source.chunks} chunks · indexed ${source.indexedAt}\n`,
      );
    }
  });

program
  .command('add')
  .description('Add an article (a .md, .txt, .html, .pdf or .docx file, or a public web page) to the sources and index it')
  .argument('<file-or-url>', 'a file, or an http(s) address')
  .option('--sources <dir>', 'folder of source articles (SOURCES_DIR)')
  .option('--index <dir>', 'index folder (INDEX_DIR)')
  .action(async (target: string, options: { sources?: string; index?: string }) => {
    const config = cliConfig({ SOURCES_DIR: options.sources, INDEX_DIR: options.index });
    const input = /^https?:\/\//i.test(target) ? { url: target } : { file: { name: path.basename(target), bytes: await readSourceFile(target) } };
    await withDocent(config, async (docent) => {
      const { source, sample } = await docent.addSource(input, terminalUser());
      process.stdout.write(`${addedText(source, sample)}\n`);
    });
  });

program
  .command('remove')
  .description('Move an article out of the sources (into .removed/, nothing is deleted) and re-index')
  .argument('<id>', 'the source id, as `docent sources` lists it (its path under the sources folder)')
  .option('--sources <dir>', 'folder of source articles (SOURCES_DIR)')
  .option('--index <dir>', 'index folder (INDEX_DIR)')
  .action(async (id: string, options: { sources?: string; index?: string }) => {
    const config = cliConfig({ SOURCES_DIR: options.sources, INDEX_DIR: options.index });
    await withDocent(config, async (docent) => {
      const { source, movedTo } = await docent.removeSource(id, terminalUser());
      process.stdout.write(`Removed ${printable(source?.title ?? id)} (${id}); the file is kept as ${movedTo}.\n`);
    });
  });

program
  .command('gaps')
  .description('What the sources miss: unanswered questions grouped by topic, and "Not helpful" votes')
  .option('--days <n>', 'how far back to look', '30')
  .option('--index <dir>', 'index folder (INDEX_DIR)')
  .option('--json', 'print JSON', false)
  .action(async (options: { days: string; index?: string; json: boolean }) => {
    const days = Number(options.days);
    if (!Number.isInteger(days) || days < 1) throw new UsageError(`--days must be a whole number of days, got "${options.days}"`);
    const config = cliConfig({ INDEX_DIR: options.index });
    await withDocent(config, async (docent) => {
      const report = await docent.gaps(new Date(Date.now() - days * 86_400_000));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${gapsText(report, days)}\n`);
    });
  });

/** Opens the engine (building the index first if there is none) for one command, and closes it after. */
async function withDocent(config: EngineConfig, work: (docent: Docent) => Promise<void>): Promise<void> {
  const progress = progressRenderer();
  const docent = await openDocent(config, { onEvent: stderrEvents, onProgress: progress.onProgress });
  progress.stop();
  try {
    await work(docent);
  } finally {
    await docent.close();
  }
}

async function readSourceFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `${file} does not exist` : code === 'EISDIR' ? `${file} is a folder; give one file` : `${file} cannot be read (${code})`,
    );
  }
}

/** A mistake in how the command was called: shown without a stack trace. */
class UsageError extends Error {}

// A reader that stops early (`docent sources | head -1`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync();
} catch (error) {
  // Mistakes a person can fix are told in words; anything else keeps its stack for a bug report.
  const told = error instanceof UsageError || error instanceof ConfigError ? error.message : engineErrorText(error);
  process.stderr.write(`docent: ${told ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
}
