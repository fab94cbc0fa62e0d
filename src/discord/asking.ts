import type { APIEmbed, ActionRowBuilder, ButtonBuilder } from 'discord.js';
import type { BotContext } from './context.ts';
import { hashUserId } from './feedback.ts';
import { answerButtons, renderAnswer } from './render.ts';

/** Every message Docent sends carries this: source text must never ping anyone. */
export const NO_MENTIONS = { parse: [] as [], repliedUser: false };

export interface AnswerReply {
  readonly content?: string;
  readonly embeds: APIEmbed[];
  readonly components: ActionRowBuilder<ButtonBuilder>[];
  readonly allowedMentions: typeof NO_MENTIONS;
}

/**
 * The question without Discord's addressing syntax (user, role, channel, command, emoji and
 * timestamp tokens, @everyone, @here): left in, their ids and words would count as keywords.
 */
export function plainQuestion(text: string): string {
  return text
    .replace(/<(?:@[!&]?\d+|#\d+|\/[\w -]+:\d+|a?:\w+:\d+|t:-?\d+(?::\w)?)>/g, ' ')
    .replace(/@(?:everyone|here)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Why a question is not answered at all (before any work is done), or undefined to go ahead. */
export function refusal(context: BotContext, userId: string, question: string): string | undefined {
  if (question.trim() === '') return 'Ask a question, e.g. `/ask question: Who led the talks in Istanbul?`';
  const max = context.config.MAX_QUESTION_CHARS;
  if (question.length > max) return `Questions can be at most ${max} characters; yours has ${question.length.toLocaleString('en')}. Try a shorter one.`;
  return overRateLimit(context, userId);
}

/**
 * Answers in turn: `acknowledge` runs at once (Discord wants a reply within 3 s), then `answer`
 * waits for its turn. When too many questions are already waiting, the user is told Docent is
 * busy with `busy`, and the question does not count against their rate limit.
 */
export async function inTurn(
  context: BotContext,
  userId: string,
  steps: { acknowledge?: () => Promise<unknown>; answer: () => Promise<unknown>; busy: () => Promise<unknown> },
): Promise<void> {
  if (context.queue.full) {
    context.limiter.refund(userId);
    await steps.busy();
    return;
  }
  await steps.acknowledge?.();
  await context.queue.run(steps.answer);
}

/** Counts one question against the user's rate limit; says how long to wait when over it. */
export function overRateLimit(context: BotContext, userId: string): string | undefined {
  const wait = context.limiter.take(userId);
  return wait > 0 ? `You're asking faster than Docent allows. Try again in ${wait} s.` : undefined;
}

export const BUSY = 'Docent is busy answering other questions right now. Please try again in a moment.';

/**
 * The answer to `question` starting after `shown` quotes, as a Discord message with its buttons.
 * `askerId` goes to the gaps log hashed, as in the feedback log, if the sources miss the question.
 */
export async function answerReply(context: BotContext, question: string, shown = 0, askerId?: string): Promise<AnswerReply> {
  const asker = askerId === undefined ? undefined : hashUserId(askerId, context.config.DISCORD_CLIENT_ID);
  const answer = await context.docent.ask(question, { offset: shown, ...(asker ? { asker } : {}) });
  const rendered = renderAnswer(answer, shown + 1);
  if (!answer.answered || answer.quotes.length === 0) {
    return { content: rendered.content, embeds: [], components: [], allowedMentions: NO_MENTIONS };
  }
  const answerId = context.answers.put({
    question,
    shown: shown + rendered.shown,
    sources: answer.quotes.slice(0, rendered.shown).map((quote) => quote.source.id),
  });
  // Quotes that did not fit are the next page's first ones.
  const hasMore = answer.hasMore || rendered.shown < answer.quotes.length;
  return {
    ...(rendered.content ? { content: rendered.content } : {}),
    embeds: rendered.embeds,
    components: [answerButtons(answerId, hasMore)],
    allowedMentions: NO_MENTIONS,
  };
}
