import { z } from 'zod';
import { engineConfigSchema, positiveInt } from '../config/schema.ts';

/**
 * What is wrong with a bot token's shape, or undefined. A bot token is three dot-separated
 * parts of letters, digits, `-` and `_`: the bot's id in base64 (at least 20 characters), a
 * timestamp (at least 4) and an HMAC (at least 20). Says which rule fails, never the token.
 */
export function tokenProblem(token: string): string | undefined {
  if (/\s/.test(token)) return 'contains spaces or line breaks (copy it again from the Developer Portal)';
  const parts = token.split('.');
  if (parts.length !== 3)
    return `has ${parts.length} dot-separated part${parts.length === 1 ? '' : 's'}; a bot token has 3 (copy it again from the Developer Portal → Bot → Reset Token)`;
  if (parts.some((part) => !/^[\w-]+$/.test(part))) return 'has characters a bot token never holds (only letters, digits, - and _ between the dots)';
  const [id, time, hmac] = parts.map((part) => part.length) as [number, number, number];
  if (id < 20 || time < 4 || hmac < 20)
    return `is too short to be a bot token (parts of ${id}, ${time} and ${hmac} characters; a real one has at least 20, 4 and 20)`;
  return undefined;
}

const snowflake = (name: string, whereToFind = '') =>
  z.string({ required_error: `${name} is required${whereToFind}` }).regex(/^\d{17,20}$/, `${name} must be a Discord id (17–20 digits)`);

/**
 * The bot's settings: the engine's (see src/config/schema.ts) plus Discord's.
 * This schema is the reference documentation; `.env.example` mirrors it.
 */
export const botConfigSchema = engineConfigSchema.extend({
  /** The bot token from the Discord developer portal (Bot → Reset Token). Never logged. */
  DISCORD_TOKEN: z.string({ required_error: 'DISCORD_TOKEN is required (Developer Portal → your app → Bot → Reset Token)' }).superRefine((token, context) => {
    const problem = tokenProblem(token);
    if (problem) context.addIssue({ code: z.ZodIssueCode.custom, message: `DISCORD_TOKEN ${problem}` });
  }),
  /** The application id (Developer Portal → General Information → Application ID). */
  DISCORD_CLIENT_ID: snowflake('DISCORD_CLIENT_ID', ' (Developer Portal → General Information → Application ID)'),
  /** Register commands to this one server (instant) instead of globally (up to an hour to appear). */
  DISCORD_GUILD_ID: snowflake('DISCORD_GUILD_ID').optional(),
  /** Comma-separated role ids allowed to /reindex, on top of the Manage Server permission. Empty: Manage Server is enough. */
  ADMIN_ROLE_IDS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    )
    .pipe(z.array(snowflake('ADMIN_ROLE_IDS entries'))),
  /** Base URL of Discord's API, for a REST proxy (e.g. http://localhost:8080/api). Default: Discord itself. */
  DISCORD_API_URL: z.string().url('DISCORD_API_URL must be a URL such as http://localhost:8080/api').optional(),
  /** Questions one user may ask per minute. */
  RATE_LIMIT_PER_MINUTE: positiveInt('RATE_LIMIT_PER_MINUTE', 1000).default(5),
  /** Questions answered at the same time; the rest wait their turn. */
  MAX_CONCURRENT_ANSWERS: positiveInt('MAX_CONCURRENT_ANSWERS', 64).default(4),
  /** Questions that may wait for their turn; past this, a friendly "busy" reply (which does not count against the rate limit). */
  MAX_WAITING_QUESTIONS: positiveInt('MAX_WAITING_QUESTIONS', 100_000).default(200),
  /** Longest question accepted, in characters. */
  MAX_QUESTION_CHARS: positiveInt('MAX_QUESTION_CHARS', 2000).default(300),
  /** Rewritten every 30 s while the bot is connected to Discord, for a health check to read its age. */
  HEALTH_FILE: z.string().min(1, 'HEALTH_FILE must name a file').default('data/health.json'),
  /** How often /reindex edits its reply with progress, in milliseconds. */
  REINDEX_PROGRESS_MS: positiveInt('REINDEX_PROGRESS_MS', 60_000).default(3_000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace' })
    .default('info'),
});

export type BotConfig = z.infer<typeof botConfigSchema>;
