import dotenv from 'dotenv';
import pino, { type Logger } from 'pino';
import { ConfigError, parseConfig } from '../config/load.ts';
import { botConfigSchema, type BotConfig } from './config.ts';

/** The one line shown when the bot cannot start because of its settings. */
export function configErrorLine(error: ConfigError): string {
  return `Docent cannot start: ${error.issues.join('; ')}. Set these in .env (see .env.example for every setting), or use \`npm run ask -- "your question"\` to ask from the terminal without Discord.`;
}

export function loadBotConfig(env: Record<string, string | undefined> = process.env): BotConfig {
  dotenv.config({ quiet: true });
  return parseConfig(botConfigSchema, env);
}

/** The token is redacted wherever it might be logged by mistake. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: ['token', '*.token', 'config.DISCORD_TOKEN', 'DISCORD_TOKEN', 'headers.authorization'], censor: '[redacted]' } }, destination);
}
