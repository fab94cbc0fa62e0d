import type { Message } from 'discord.js';
import { answerReply, BUSY, inTurn, NO_MENTIONS, plainQuestion, refusal } from './asking.ts';
import type { BotContext } from './context.ts';

/** The question in a message that mentions the bot, without the mention itself. */
export function questionFromMention(content: string, botId: string): string {
  return plainQuestion(content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' '));
}

/**
 * Only a mention written in the text is a question: replying to one of Docent's answers also
 * "mentions" the bot (a reply ping), and "thanks!" is not a question.
 */
export function addressesBot(content: string, botId: string): boolean {
  return new RegExp(`<@!?${botId}>`).test(content);
}

/** Answers a message that mentions the bot, as a reply to it; ignores every other message. */
export async function handleMention(message: Message, context: BotContext): Promise<void> {
  const botId = message.client.user.id;
  if (message.author.bot || !addressesBot(message.content, botId)) return;
  const question = questionFromMention(message.content, botId);
  const refused = refusal(context, message.author.id, question);
  if (refused) {
    await message.reply({ content: refused, allowedMentions: NO_MENTIONS });
    return;
  }
  await inTurn(context, message.author.id, {
    acknowledge: async () => {
      if ('sendTyping' in message.channel) await message.channel.sendTyping().catch(() => undefined);
    },
    answer: async () => message.reply(await answerReply(context, question, 0, message.author.id)),
    busy: () => message.reply({ content: BUSY, allowedMentions: NO_MENTIONS }),
  });
}
