import { randomBytes } from 'node:crypto';
import { MessageFlags, type RepliableInteraction } from 'discord.js';
import type { Logger } from 'pino';
import { engineErrorText } from '../wording/engine.ts';
import { AttachmentError } from './attachments.ts';

/** Logs the full error under a new short id, which is all the user is shown. */
export function logWithErrorId(logger: Logger, error: unknown, what: string): string {
  const errorId = randomBytes(4).toString('hex');
  logger.error({ errorId, err: error }, what);
  return errorId;
}

/**
 * Logs the full error under a short id and tells the user only the id, privately: the details
 * stay in the log where admins can find them.
 */
export async function reportError(interaction: RepliableInteraction, logger: Logger, error: unknown): Promise<string> {
  const errorId = logWithErrorId(logger, error, 'failed to handle an interaction');
  const explained = error instanceof AttachmentError ? error.message : engineErrorText(error);
  const content = explained
    ? `${explained} (error id ${errorId})`
    : `Sorry, something went wrong (error id \`${errorId}\`). An admin can look it up in Docent's log.`;
  try {
    if (interaction.deferred && !interaction.ephemeral) await interaction.deleteReply().catch(() => undefined);
    if (interaction.deferred || interaction.replied) await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
    else await interaction.reply({ content, flags: MessageFlags.Ephemeral });
  } catch (replyError) {
    logger.warn({ errorId, err: replyError }, 'could not tell the user about the error');
  }
  return errorId;
}
