import { MessageFlags, SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../context.ts';
import { renderSources } from '../render.ts';

export const sources: SlashCommand = {
  data: new SlashCommandBuilder().setName('sources').setDescription('List the articles Docent answers from'),

  async execute(interaction: ChatInputCommandInteraction, context: BotContext) {
    const { sources: list, builtAt } = context.docent.sources();
    await interaction.reply({ ...renderSources(list, 0, builtAt), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  },
};
