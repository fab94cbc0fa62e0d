import { MessageFlags, SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { answerReply, BUSY, inTurn, plainQuestion, refusal } from '../asking.ts';
import type { BotContext, SlashCommand } from '../context.ts';

export const ask: SlashCommand = {
  data: new SlashCommandBuilder()
    .setName('ask')
    .setDescription('Answer a question with quotes from the team’s sources')
    .addStringOption((option) => option.setName('question').setDescription('What do you want to know?').setRequired(true))
    .addBooleanOption((option) => option.setName('private').setDescription('Only you see the answer')),

  async execute(interaction: ChatInputCommandInteraction, context: BotContext) {
    const question = plainQuestion(interaction.options.getString('question', true));
    const isPrivate = interaction.options.getBoolean('private') ?? false;
    const refused = refusal(context, interaction.user.id, question);
    if (refused) {
      await interaction.reply({ content: refused, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      return;
    }
    await inTurn(context, interaction.user.id, {
      acknowledge: () => interaction.deferReply(isPrivate ? { flags: MessageFlags.Ephemeral } : {}),
      answer: async () => interaction.editReply(await answerReply(context, question, 0, interaction.user.id)),
      busy: () => interaction.reply({ content: BUSY, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } }),
    });
  },
};
