import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  ContextMenuCommandBuilder,
  MessageContextMenuCommandInteraction,
  SharedSlashCommand,
} from 'discord.js';
import type { Logger } from 'pino';
import type { Docent } from '../docent.ts';
import { AnswerStore } from './answerStore.ts';
import type { BotConfig } from './config.ts';
import { feedbackLog, type FeedbackLog } from './feedback.ts';
import { AnswerQueue, RateLimiter } from './limits.ts';
import { ReindexJob } from './reindexJob.ts';

/** Everything a command handler may use; built once at start-up and handed in, so tests can build their own. */
export interface BotContext {
  readonly docent: Docent;
  readonly config: Pick<
    BotConfig,
    'ADMIN_ROLE_IDS' | 'MAX_QUESTION_CHARS' | 'REINDEX_PROGRESS_MS' | 'MAX_SOURCE_BYTES' | 'FETCH_TIMEOUT_MS' | 'DISCORD_CLIENT_ID'
  >;
  readonly logger: Logger;
  readonly limiter: RateLimiter;
  readonly queue: AnswerQueue;
  readonly answers: AnswerStore;
  readonly feedback: FeedbackLog;
  readonly reindexJob: ReindexJob;
}

/** The context as configured: limits, feedback log and re-index job around one engine. */
export function createBotContext(docent: Docent, config: BotConfig, logger: Logger): BotContext {
  return {
    docent,
    config,
    logger,
    limiter: new RateLimiter(config.RATE_LIMIT_PER_MINUTE),
    queue: new AnswerQueue(config.MAX_CONCURRENT_ANSWERS, config.MAX_WAITING_QUESTIONS),
    answers: new AnswerStore(),
    // The application id salts the user hashes, so the same person hashes differently per bot.
    feedback: feedbackLog(config.FEEDBACK_LOG, config.DISCORD_CLIENT_ID),
    reindexJob: new ReindexJob(docent),
  };
}

/** The discord.js guide's command shape: the builder Discord registers, and what runs. */
export interface SlashCommand {
  readonly data: SharedSlashCommand;
  execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
  /** Suggestions for an option marked `setAutocomplete(true)`. */
  autocomplete?(interaction: AutocompleteInteraction, context: BotContext): Promise<void>;
}

/** A command on a message's context menu (Apps → …). */
export interface MessageCommand {
  readonly data: ContextMenuCommandBuilder;
  execute(interaction: MessageContextMenuCommandInteraction, context: BotContext): Promise<void>;
}
