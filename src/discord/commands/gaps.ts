import { InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { GapReport } from '../../docent.ts';
import type { SlashCommand } from '../context.ts';
import { interactionIsAdmin } from '../permissions.ts';
import { escapeText, LIMITS, truncate } from '../render.ts';

/** The report as one message: unanswered topics with counts, then recent "Not helpful" votes. */
export function gapsMessage(report: GapReport, days: number): string {
  const lines = [`**What the sources missed in the last ${days} day(s)**`];
  if (report.topics.length === 0) lines.push('No question went unanswered.');
  for (const topic of report.topics.slice(0, 15)) {
    const others =
      topic.phrasings.length > 1
        ? ` (also asked as: ${topic.phrasings
            .slice(1, 3)
            .map((phrasing) => `“${escapeText(truncate(phrasing, 80))}”`)
            .join(', ')})`
        : '';
    lines.push(`**${topic.count}×** ${escapeText(truncate(topic.question, 150))}${others}`);
  }
  lines.push('', `**“Not helpful” votes:** ${report.notHelpful.length}`);
  for (const vote of report.notHelpful.slice(0, 10)) lines.push(`• ${vote.time.slice(0, 10)} — ${escapeText(truncate(vote.question, 150))}`);
  return truncate(lines.join('\n'), LIMITS.description / 2);
}

export const gaps: SlashCommand = {
  data: new SlashCommandBuilder()
    .setName('gaps')
    .setDescription('Admins: questions the sources did not answer, grouped by topic, and "Not helpful" votes')
    .addIntegerOption((option) => option.setName('days').setDescription('How far back to look (default 30)').setMinValue(1).setMaxValue(365))
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild),

  async execute(interaction, context) {
    const check = interactionIsAdmin(interaction, context.config.ADMIN_ROLE_IDS, 'see the gaps');
    if (!check.allowed) {
      await interaction.reply({ content: check.reason, flags: MessageFlags.Ephemeral });
      return;
    }
    const days = interaction.options.getInteger('days') ?? 30;
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const report = await context.docent.gaps(new Date(Date.now() - days * 86_400_000));
    await interaction.editReply({ content: gapsMessage(report, days), allowedMentions: { parse: [] } });
  },
};
