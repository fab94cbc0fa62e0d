import { ApplicationCommandType, ContextMenuCommandBuilder, InteractionContextType, MessageFlags } from 'discord.js';
import { answerReply, BUSY, inTurn, plainQuestion, refusal } from '../asking.ts';
import type { MessageCommand } from '../context.ts';

/** "Ask Docent" on any message: its text is the question, and only the one who asked sees the answer. */
export const askFromMessage: MessageCommand = {
  data: new ContextMenuCommandBuilder().setName('Ask Docent').setType(ApplicationCommandType.Message).setContexts(InteractionContextType.Guild),

  async execute(interaction, context) {
    const question = plainQuestion(interaction.targetMessage.content);
    const refused = refusal(context, interaction.user.id, question);
    if (refused) {
      const content = question === '' ? 'That message has no text to ask about (Docent reads the text of a message, not its attachments or embeds).' : refused;
      await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      return;
    }
    await inTurn(context, interaction.user.id, {
      acknowledge: () => interaction.deferReply({ flags: MessageFlags.Ephemeral }),
      answer: async () => interaction.editReply(await answerReply(context, question, 0, interaction.user.id)),
      busy: () => interaction.reply({ content: BUSY, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } }),
    });
  },
};
