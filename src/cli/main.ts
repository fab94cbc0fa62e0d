import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ConfigError } from '../config/load.ts';
import { embedderFor, openDocent, readIndexManifest, reindexWithConfig } from '../docent.ts';
import { cliConfig, stderrEvents, stderrLog } from './context.ts';
import { engineErrorText } from '../wording/engine.ts';
import { problemsText, summaryText } from '../wording/reindexSummary.ts';
import { answerJson, answerText, printable } from './format.ts';
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
    const progress = progressRenderer();
    const docent = await openDocent(config, { onEvent: stderrEvents, onProgress: progress.onProgress });
    progress.stop();
    try {
      if (options.stdin) {
        // One JSON line per input line, blank ones included, so answers line up with questions.
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
          process.stdout.write(`${JSON.stringify(answerJson(await docent.ask(line.trim())))}\n`);
        }
      } else {
        const answer = await docent.ask(question);
        process.stdout.write(options.json ? `${JSON.stringify(answerJson(answer), null, 2)}\n` : `${answerText(answer)}\n`);
      }
    } finally {
      await docent.close();
    }
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
