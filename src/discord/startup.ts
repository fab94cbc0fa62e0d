import dotenv from 'dotenv';
import pino, { type Logger } from 'pino';
import { type ConfigError, parseConfig } from '../config/load.ts';
import { botConfigSchema, type BotConfig } from './config.ts';

/** The one line shown when the bot cannot start because of its settings. */
export function configErrorLine(error: ConfigError): string {
  return `Docent cannot start: ${error.issues.join('; ')}. Set these in .env (see .env.example for every setting), or use \`npm run ask -- "your question"\` to ask from the terminal without Discord.`;
}

export function loadBotConfig(env: Record<string, string | undefined> = process.env): BotConfig {
  dotenv.config({ quiet: true });
  return parseConfig(botConfigSchema, env);
}

/**
 * Interaction tokens (and the webhook URLs that carry them) let whoever holds one post as the bot
 * for 15 minutes. They sit in the URLs of REST errors, so every line is cleaned as it is written:
 * one place, whatever logged it.
 */
export function redactTokens(line: string): string {
  return line.replace(/(\/(?:webhooks|interactions)\/\d+\/)[\w.-]{20,}/g, '$1[redacted]');
}

/** The bot token is redacted wherever it might be logged by mistake, interaction tokens in every line. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: ['token', '*.token', 'config.DISCORD_TOKEN', 'DISCORD_TOKEN', 'headers.authorization'], censor: '[redacted]' },
      hooks: { streamWrite: redactTokens },
    },
    destination,
  );
}
