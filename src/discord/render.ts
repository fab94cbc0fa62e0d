import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, escapeMarkdown, type APIEmbed } from 'discord.js';
import type { Answer, IndexedSource, NoQuotesReason, Quote } from '../docent.ts';

/** Discord's published message limits. */
export const LIMITS = { title: 256, description: 4096, fieldValue: 1024, fieldName: 256, footer: 2048, embedTotal: 6000 } as const;

const ELLIPSIS = '…';

/**
 * Makes source text inert in Discord: no markdown, no mentions (@everyone, <@id>, <#id>),
 * no links swallowing the line. allowedMentions is empty as well; this keeps the text from
 * even looking like a ping.
 */
export function escapeText(text: string): string {
  // escapeMarkdown leaves masked links, headings, lists and block quotes alone by default.
  return escapeMarkdown(text.replace(/\s*\r?\n\s*/g, ' '), { heading: true, bulletedList: true, numberedList: true })
    .replace(/\[/g, '\\[')
    .replace(/^(\s*)>/, '$1\\>')
    .replace(/@/g, '@\u200b')
    .replace(/<(?=[@#:at]|\/)/g, '<\u200b');
}

/** Cuts at a word boundary to at most `max` characters, ellipsis included. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/\\+$/, '')}${ELLIPSIS}`;
}

/**
 * `**[n]** [Title](link)` when the source has an address, so a click opens the article at the
 * quote; otherwise `**[n]** Title — \`path\`, line N` (page N for a PDF), in at most `max`
 * characters. The title is escaped; the path sits in a code span (where nothing formats or pings),
 * which truncation never leaves unclosed.
 */
function sourceLine(quote: Quote, n: number, max: number): string {
  const marker = `**[${n}]** `;
  const where = quote.page !== undefined ? `, page ${quote.page}` : `, line ${quote.line}`;
  const title = escapeText(quote.source.title);
  if (quote.link) {
    // A masked link ends at the first ")" or "]": both are escaped so neither cuts it short.
    const target = quote.link.replace(/\)/g, '%29');
    const room = max - marker.length - target.length - 4 - (quote.page !== undefined ? where.length : 0);
    if (room >= 20) return `${marker}[${truncate(title, room).replace(/\]/g, '\\]')}](${target})${quote.page !== undefined ? where : ''}`;
  }
  const file = quote.page !== undefined ? (quote.source.original ?? quote.source.path) : quote.source.path;
  const path = file.replace(/`/g, "'").replace(/@/g, '@\u200b');
  const room = max - marker.length - ' — '.length - 2 - where.length;
  const pathRoom = Math.min(path.length, Math.max(Math.floor(room / 2), room - title.length));
  return `${marker}${truncate(title, room - pathRoom)} — \`${truncate(path, pathRoom)}\`${where}`;
}

/**
 * `> quote [n]` blocks that fit `budget` characters, and how many quotes they hold; a quote that
 * would overflow is shortened before its marker, never after, and one without room is left out.
 */
export function quoteBlocks(quotes: readonly Quote[], budget: number, firstNumber = 1): { text: string; count: number } {
  const blocks: string[] = [];
  let used = 0;
  for (const [i, quote] of quotes.entries()) {
    const marker = ` **[${firstNumber + i}]**`;
    const separator = blocks.length > 0 ? 2 : 0;
    const room = budget - used - separator - marker.length - 2;
    if (room < 40) break;
    const block = `> ${truncate(escapeText(quote.text), room)}${marker}`;
    blocks.push(block);
    used += separator + block.length;
  }
  return { text: blocks.join('\n\n'), count: blocks.length };
}

const NO_QUOTES: Record<NoQuotesReason, string> = {
  'not-covered': 'The sources do not cover this question.',
  'no-more-quotes': 'There are no more quotes for this question.',
  'empty-question': 'Ask a question, e.g. `/ask question: Who led the talks in Istanbul?`',
};

/** Said above the quotes when they are the closest passages rather than a confident answer. */
export const LOW_CONFIDENCE = 'These are the closest passages; they may not answer this directly.';
const LOW_CONFIDENCE_COLOR = 0x99aab5;

export interface RenderedAnswer {
  readonly embeds: APIEmbed[];
  readonly content?: string;
  /** Quotes shown (and cited): the first ones of the answer, as many as fit Discord's limits. */
  readonly shown: number;
}

export function renderAnswer(answer: Answer, firstNumber = 1): RenderedAnswer {
  if (!answer.answered || answer.quotes.length === 0) {
    return { content: NO_QUOTES[answer.reason ?? 'not-covered'], embeds: [], shown: 0 };
  }
  const title = truncate(escapeText(answer.question), LIMITS.title);
  const citations = (quotes: readonly Quote[]) =>
    quotes.map((quote, i) => sourceLine(quote, firstNumber + i, Math.floor(LIMITS.fieldValue / quotes.length) - 1)).join('\n');
  const footer = 'Verbatim quotes from the indexed sources. Docent does not paraphrase.';
  // Budgeted as if every quote were cited; only those that fit are shown, and only they are cited.
  const descriptionBudget = Math.min(LIMITS.description, LIMITS.embedTotal - title.length - 'Sources'.length - citations(answer.quotes).length - footer.length);
  const blocks = quoteBlocks(answer.quotes, descriptionBudget, firstNumber);
  const embed = new EmbedBuilder()
    .setTitle(title)
    .setDescription(blocks.text)
    .addFields({ name: 'Sources', value: citations(answer.quotes.slice(0, blocks.count)) })
    .setFooter({ text: footer })
    .setColor(answer.confidence === 'low' ? LOW_CONFIDENCE_COLOR : 0x5865f2);
  return { ...(answer.confidence === 'low' ? { content: LOW_CONFIDENCE } : {}), embeds: [embed.toJSON()], shown: blocks.count };
}

export const CUSTOM_ID = {
  more: (answerId: string) => `docent:more:${answerId}`,
  helpful: (answerId: string) => `docent:vote:up:${answerId}`,
  notHelpful: (answerId: string) => `docent:vote:down:${answerId}`,
  sourcesPage: (page: number) => `docent:sources:${page}`,
} as const;

export function answerButtons(answerId: string, hasMore: boolean): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(CUSTOM_ID.more(answerId)).setLabel('More quotes').setStyle(ButtonStyle.Secondary).setDisabled(!hasMore),
    new ButtonBuilder().setCustomId(CUSTOM_ID.helpful(answerId)).setLabel('Helpful').setStyle(ButtonStyle.Success),
    new ButtonBuilder().setCustomId(CUSTOM_ID.notHelpful(answerId)).setLabel('Not helpful').setStyle(ButtonStyle.Danger),
  );
}

export const SOURCES_PER_PAGE = 10;

export function renderSources(
  sources: readonly IndexedSource[],
  page: number,
  builtAt?: string,
): { embeds: APIEmbed[]; components: ActionRowBuilder<ButtonBuilder>[] } {
  const pages = Math.max(1, Math.ceil(sources.length / SOURCES_PER_PAGE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const shown = sources.slice(current * SOURCES_PER_PAGE, (current + 1) * SOURCES_PER_PAGE);
  const lines = shown.map((source) => `• **${truncate(escapeText(source.title), 200)}**${source.date ? ` (${source.date})` : ''} — ${source.chunks} chunks`);
  const embed = new EmbedBuilder()
    .setTitle(`Indexed sources (${sources.length})`)
    .setDescription(truncate(lines.join('\n') || 'No sources are indexed yet. An admin can add articles and run /reindex.', LIMITS.description))
    .setFooter({ text: `Page ${current + 1} of ${pages}${builtAt ? ` · index built ${builtAt}` : ''}` });
  const components =
    pages > 1
      ? [
          new ActionRowBuilder<ButtonBuilder>().addComponents(
            new ButtonBuilder()
              .setCustomId(CUSTOM_ID.sourcesPage(current - 1))
              .setLabel('Previous')
              .setStyle(ButtonStyle.Secondary)
              .setDisabled(current === 0),
            new ButtonBuilder()
              .setCustomId(CUSTOM_ID.sourcesPage(current + 1))
              .setLabel('Next')
              .setStyle(ButtonStyle.Secondary)
              .setDisabled(current >= pages - 1),
          ),
        ]
      : [];
  return { embeds: [embed.toJSON()], components };
}
