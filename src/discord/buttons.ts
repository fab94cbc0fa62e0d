import { MessageFlags, type ButtonInteraction } from 'discord.js';
import { answerReply, BUSY, inTurn, overRateLimit } from './asking.ts';
import type { BotContext } from './context.ts';
import { renderSources } from './render.ts';

const EXPIRED = 'This answer is too old for its buttons to work (Docent was restarted or has answered many questions since). Please ask again.';

/** Said for a button Docent did not make (or no longer knows), instead of letting Discord show "This interaction failed". */
export const UNKNOWN_BUTTON = 'Docent does not know this button. Ask again to get fresh buttons.';

/** Handles the buttons Docent puts under its messages; returns false for a button it does not know. */
export async function handleButton(interaction: ButtonInteraction, context: BotContext): Promise<boolean> {
  const [app, action, ...rest] = interaction.customId.split(':');
  if (app !== 'docent') return false;

  if (action === 'more') {
    const answer = context.answers.get(rest[0] ?? '');
    if (!answer) {
      await interaction.reply({ content: EXPIRED, flags: MessageFlags.Ephemeral });
      return true;
    }
    // More quotes costs an answer's work, so it counts against the same limits as asking.
    const limited = overRateLimit(context, interaction.user.id);
    if (limited) {
      await interaction.reply({ content: limited, flags: MessageFlags.Ephemeral });
      return true;
    }
    await inTurn(context, interaction.user.id, {
      acknowledge: () => interaction.deferReply({ flags: MessageFlags.Ephemeral }),
      answer: async () => interaction.editReply(await answerReply(context, answer.question, answer.shown)),
      busy: () => interaction.reply({ content: BUSY, flags: MessageFlags.Ephemeral }),
    });
    return true;
  }

  if (action === 'vote') {
    const [direction, answerId] = rest;
    if (direction !== 'up' && direction !== 'down') return false;
    const answer = context.answers.get(answerId ?? '');
    if (!answer) {
      await interaction.reply({ content: EXPIRED, flags: MessageFlags.Ephemeral });
      return true;
    }
    // One vote per person per answer: pressing again does not write another line.
    if (!context.answers.vote(answerId!, interaction.user.id)) {
      await interaction.reply({ content: 'You already gave feedback on this answer — thanks.', flags: MessageFlags.Ephemeral });
      return true;
    }
    await context.feedback.record({
      question: answer.question,
      sources: answer.sources,
      verdict: direction === 'up' ? 'helpful' : 'not_helpful',
      userId: interaction.user.id,
    });
    await interaction.reply({ content: 'Thanks — your feedback was recorded.', flags: MessageFlags.Ephemeral });
    return true;
  }

  if (action === 'sources') {
    const page = rest[0] ?? '';
    if (!/^\d{1,6}$/.test(page)) return false;
    const { sources, builtAt } = context.docent.sources();
    await interaction.update(renderSources(sources, Number(page), builtAt));
    return true;
  }
  return false;
}
