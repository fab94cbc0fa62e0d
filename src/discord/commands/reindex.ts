import { InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { problemsText, summaryText } from '../../wording/reindexSummary.ts';
import type { BotContext, SlashCommand } from '../context.ts';
import { interactionIsAdmin } from '../permissions.ts';
import { reportError } from '../errors.ts';

export const reindex: SlashCommand = {
  data: new SlashCommandBuilder()
    .setName('reindex')
    .setDescription('Admins: re-read sources/ and update the index (answers continue meanwhile)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild),

  async execute(interaction: ChatInputCommandInteraction, context: BotContext) {
    const check = interactionIsAdmin(interaction, context.config.ADMIN_ROLE_IDS);
    if (!check.allowed) {
      await interaction.reply({ content: check.reason, flags: MessageFlags.Ephemeral });
      return;
    }
    const { started, done } = context.reindexJob.start();
    if (!started) {
      await interaction.reply({ content: `A re-index is already running. ${context.reindexJob.status()}`, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.reply({ content: context.reindexJob.status(), flags: MessageFlags.Ephemeral });
    const ticker = setInterval(() => {
      if (!context.reindexJob.isRunning) return;
      interaction
        .editReply({ content: context.reindexJob.status() })
        .catch((error: unknown) => context.logger.warn({ err: error }, 'could not edit /reindex progress'));
    }, context.config.REINDEX_PROGRESS_MS);
    try {
      const summary = await done;
      // Logged as well: a re-index longer than the 15-minute interaction token cannot edit its reply.
      context.logger.info({ summary: { ...summary, problems: summary.problems.length } }, 're-index finished');
      const problems = problemsText(summary).map((line) => `⚠ ${line}`);
      await interaction.editReply({ content: ['Re-index finished.', '```', summaryText(summary), '```', ...problems].join('\n').slice(0, 2000) });
    } catch (error) {
      await reportError(interaction, context.logger, error);
    } finally {
      clearInterval(ticker);
    }
  },
};
