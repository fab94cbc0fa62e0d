import { ConfigError } from '../config/load.ts';
import { openDocent } from '../docent.ts';
import { engineErrorText, engineEventText } from '../wording/engine.ts';
import { Events } from 'discord.js';
import { attachDocent, createClient } from './bot.ts';
import { startHeartbeat } from './health.ts';
import { createBotContext } from './context.ts';
import type { BotConfig } from './config.ts';
import { configErrorLine, createLogger, loadBotConfig } from './startup.ts';

let config: BotConfig;
try {
  config = loadBotConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${configErrorLine(error)}\n`);
  process.exit(2);
}

const logger = createLogger(config.LOG_LEVEL);
let lastProgressLog = 0;
const docent = await openDocent(
  config,
  {
    onEvent: (event) => logger.info(engineEventText(event)),
    onProgress: (progress) => {
      // Building the first index can take minutes: a line every few seconds shows it is alive.
      if (progress.phase !== 'embedding' || Date.now() - lastProgressLog < 5_000) return;
      lastProgressLog = Date.now();
      logger.info(`indexing: embedded ${progress.done}/${progress.total} texts`);
    },
  },
  undefined,
  { indexOffThread: true },
).catch((error: unknown) => {
  const told = engineErrorText(error);
  if (told === undefined) throw error;
  logger.fatal(told);
  process.exit(1);
});
logger.info({ sources: docent.sources().sources.length }, 'index loaded');

const client = attachDocent(createClient(config.DISCORD_API_URL), createBotContext(docent, config, logger));

/** Process managers wait about 10 s after SIGTERM before SIGKILL: leave cleanly within that, even mid-re-index. */
const SHUTDOWN_DEADLINE_MS = 8_000;

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, 'shutting down');
  setTimeout(() => {
    logger.warn('shutdown took too long; exiting now');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  try {
    await client.destroy();
    await docent.close();
  } catch (error) {
    logger.warn({ err: error }, 'error while shutting down');
  }
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

client.once(Events.ClientReady, () => startHeartbeat(client, config.HEALTH_FILE, logger));

try {
  await client.login(config.DISCORD_TOKEN);
} catch (error) {
  // discord.js errors never contain the token; the message alone is enough to act on.
  logger.fatal({ err: { message: error instanceof Error ? error.message : String(error) } }, 'could not log in to Discord (check DISCORD_TOKEN)');
  await docent.close();
  process.exit(1);
}
