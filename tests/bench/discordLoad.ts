/**
 * `npm run bench:discord`: the bot under load, through the wire-level Discord stand-in (the real
 * discord.js client, the real engine). Measures how fast `/ask` is acknowledged while a re-index
 * of the 48 eval articles runs (Discord's deadline is 3 s), then how long 50 people asking at once
 * wait for their answers. Figures, not assertions: they vary with the machine.
 */
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Events } from 'discord.js';
import { parseConfig } from '../../src/config/load.ts';
import { attachDocent, createClient } from '../../src/discord/bot.ts';
import { botConfigSchema } from '../../src/discord/config.ts';
import { createBotContext } from '../../src/discord/context.ts';
import { createLogger } from '../../src/discord/startup.ts';
import { openDocent } from '../../src/docent.ts';
import { quantile } from '../../src/eval/metrics.ts';
import { defaultModelCacheDir } from '../../src/embeddings/minilm/modelFolder.ts';
import { snowflake, startFakeDiscord } from '../discord/fake/fakeDiscord.ts';

// Not from the test helpers: those import vitest, which only runs inside its own runner.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEED_SOURCES = path.join(REPO_ROOT, 'sources');
const WIKI_ARTICLES = path.resolve(REPO_ROOT, '..', 'shared', 'eval', 'squadshifts-new-wiki', 'articles');
const MODEL_CACHE_DIR = defaultModelCacheDir();
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789';
const QUESTIONS = [
  'Which properties does Russia want returned?',
  'Who led the talks in Istanbul?',
  'What is the capital of Rotterdam?',
  'When was the University of Pittsburgh founded?',
];

const work = await mkdtemp(path.join(tmpdir(), 'docent-discord-bench-'));
await mkdir(path.join(work, 'sources'));
await cp(SEED_SOURCES, path.join(work, 'sources'), { recursive: true });
const fake = await startFakeDiscord({ token: TOKEN, interactionAckDeadlineMs: null });
const config = parseConfig(botConfigSchema, {
  DISCORD_TOKEN: TOKEN,
  DISCORD_CLIENT_ID: fake.applicationId,
  DISCORD_API_URL: fake.apiUrl,
  SOURCES_DIR: path.join(work, 'sources'),
  INDEX_DIR: path.join(work, 'index'),
  MODEL_CACHE_DIR,
  FEEDBACK_LOG: path.join(work, 'feedback.jsonl'),
  GAPS_LOG: path.join(work, 'gaps.jsonl'),
  HEALTH_FILE: path.join(work, 'health.json'),
  RATE_LIMIT_PER_MINUTE: '1000',
  LOG_LEVEL: 'warn',
});
const logger = createLogger(config.LOG_LEVEL);
const docent = await openDocent(config, {}, undefined, { indexOffThread: true });
const client = attachDocent(createClient(config.DISCORD_API_URL), createBotContext(docent, config, logger));
const ready = once(client, Events.ClientReady);
await client.login(config.DISCORD_TOKEN);
await ready;

/** Dispatches one /ask; resolves with ms to the acknowledgement and to the answer. */
async function ask(question: string): Promise<{ ackMs: number; answerMs: number }> {
  const payload = fake.slashCommand({ name: 'ask', options: { question }, user: { username: 'bench', id: snowflake() } });
  const began = performance.now();
  const acknowledged = fake.waitForRequest((r) => r.method === 'POST' && r.path === `/interactions/${payload.id}/${payload.token}/callback`, 120_000);
  const answered = fake.waitForRequest((r) => r.method === 'PATCH' && r.path.includes(`/${payload.token}/messages/@original`), 120_000);
  fake.dispatchInteraction(payload);
  await acknowledged;
  const ackMs = performance.now() - began;
  await answered;
  return { ackMs, answerMs: performance.now() - began };
}

const summary = (label: string, values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${label.padEnd(38)} n ${String(sorted.length).padStart(3)}   p50 ${quantile(sorted, 0.5).toFixed(0).padStart(5)} ms   p95 ${quantile(sorted, 0.95).toFixed(0).padStart(5)} ms   max ${sorted.at(-1)!.toFixed(0).padStart(5)} ms   over 3 s: ${sorted.filter((ms) => ms > 3_000).length}`;
};

// Idle first, for comparison.
const idle: number[] = [];
for (let i = 0; i < 20; i++) idle.push((await ask(QUESTIONS[i % QUESTIONS.length]!)).ackMs);

// Questions every 100 ms while the 48 eval articles are indexed.
await cp(WIKI_ARTICLES, path.join(work, 'sources'), { recursive: true });
process.stderr.write('Re-indexing the 48 eval articles while asking…\n');
let indexing = true;
const reindexed = docent.reindex().finally(() => (indexing = false));
const during: Promise<{ ackMs: number }>[] = [];
for (let i = 0; indexing; i++) {
  during.push(ask(QUESTIONS[i % QUESTIONS.length]!));
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const summaryOfReindex = await reindexed;
const acksDuring = (await Promise.all(during)).map((result) => result.ackMs);

// 50 people at once.
const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(QUESTIONS[i % QUESTIONS.length]!)));

process.stdout.write(
  [
    `Docent on the Discord stand-in: re-index of ${summaryOfReindex.added.length} articles took ${summaryOfReindex.seconds.toFixed(0)} s (model on its own thread)`,
    summary('/ask acknowledged, idle', idle),
    summary('/ask acknowledged, during re-index', acksDuring),
    summary(
      '50 at once: acknowledged',
      burst.map((result) => result.ackMs),
    ),
    summary(
      '50 at once: answered',
      burst.map((result) => result.answerMs),
    ),
  ].join('\n') + '\n',
);

await client.destroy();
await docent.close();
await fake.close();
await rm(work, { recursive: true, force: true });
