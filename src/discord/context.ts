import type { ChatInputCommandInteraction, SharedSlashCommand } from 'discord.js';
import type { Logger } from 'pino';
import type { Docent } from '../docent.ts';
import type { AnswerStore } from './answerStore.ts';
import type { BotConfig } from './config.ts';
import type { FeedbackLog } from './feedback.ts';
import type { ConcurrencyGate, RateLimiter } from './limits.ts';
import type { ReindexJob } from './reindexJob.ts';

/** Everything a command handler may use; built once at start-up and handed in, so tests can build their own. */
export interface BotContext {
  readonly docent: Docent;
  readonly config: Pick<BotConfig, 'ADMIN_ROLE_IDS' | 'MAX_QUESTION_CHARS' | 'REINDEX_PROGRESS_MS'>;
  readonly logger: Logger;
  readonly limiter: RateLimiter;
  readonly gate: ConcurrencyGate;
  readonly answers: AnswerStore;
  readonly feedback: FeedbackLog;
  readonly reindexJob: ReindexJob;
}

/** The discord.js guide's command shape: the builder Discord registers, and what runs. */
export interface SlashCommand {
  readonly data: SharedSlashCommand;
  execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
}
