import { type AutocompleteInteraction, type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from 'discord.js';
import type { SourceInput } from '../../docent.ts';
import { NO_MENTIONS } from '../asking.ts';
import { downloadAttachment } from '../attachments.ts';
import type { BotContext, SlashCommand } from '../context.ts';
import { reportError } from '../errors.ts';
import { interactionIsAdmin } from '../permissions.ts';
import { escapeText, renderSources, truncate } from '../render.ts';

/** Discord shows at most 25 suggestions. */
const MAX_SUGGESTIONS = 25;

/** How the audit log names a Discord user. */
const auditName = (interaction: ChatInputCommandInteraction) => `discord:${interaction.user.id} (${interaction.user.username})`;

/**
 * Runs a change to the sources privately: refused while a re-index runs (it may already have read
 * the folder), acknowledged at once, and any failure told in words with an error id.
 */
async function changeSources(interaction: ChatInputCommandInteraction, context: BotContext, verb: string, work: () => Promise<string>): Promise<void> {
  if (context.reindexJob.isRunning) {
    await interaction.reply({
      content: `A re-index is running; ${verb} the article when it has finished. ${context.reindexJob.status()}`,
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    await interaction.editReply({ content: await work(), allowedMentions: NO_MENTIONS });
  } catch (error) {
    await reportError(interaction, context.logger, error);
  }
}

async function add(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const file = interaction.options.getAttachment('file');
  const url = interaction.options.getString('url')?.trim();
  if ((file === null) === (url === undefined || url === '')) {
    await interaction.reply({ content: 'Give either a `file` or a `url`, not both and not neither.', flags: MessageFlags.Ephemeral });
    return;
  }
  await changeSources(interaction, context, 'add', async () => {
    const input: SourceInput = file ? { file: await downloadAttachment(file, context.config) } : { url: url! };
    const { source, sample } = await context.docent.addSource(input, auditName(interaction));
    return [
      `Added **${escapeText(source.title)}** as \`${source.id.replace(/`/g, "'")}\`: ${source.chunks} chunks, ${source.sentences} sentences. Questions are answered from it now.`,
      ...(sample ? [`> ${truncate(escapeText(sample), 300)}`] : []),
    ].join('\n');
  });
}

async function remove(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
  const id = interaction.options.getString('source', true);
  await changeSources(interaction, context, 'remove', async () => {
    const { source } = await context.docent.removeSource(id, auditName(interaction));
    return `Removed **${escapeText(source?.title ?? id)}**. Its file is kept in the sources folder under \`.removed/\`; Docent no longer answers from it.`;
  });
}

export const sources: SlashCommand = {
  data: new SlashCommandBuilder()
    .setName('sources')
    .setDescription('The articles Docent answers from')
    .addSubcommand((command) => command.setName('list').setDescription('List the articles Docent answers from'))
    .addSubcommand((command) =>
      command
        .setName('add')
        .setDescription('Admins: add an article from a file or a public web page, and index it')
        .addAttachmentOption((option) => option.setName('file').setDescription('A .md, .txt, .html, .pdf or .docx file'))
        .addStringOption((option) => option.setName('url').setDescription('The address of a public web page').setMaxLength(2000)),
    )
    .addSubcommand((command) =>
      command
        .setName('remove')
        .setDescription('Admins: remove an article (its file is kept under sources/.removed/)')
        .addStringOption((option) => option.setName('source').setDescription('The article to remove').setRequired(true).setAutocomplete(true)),
    ),

  async execute(interaction, context) {
    const subcommand = interaction.options.getSubcommand(false) ?? 'list';
    if (subcommand === 'list') {
      const { sources: list, builtAt } = context.docent.sources();
      await interaction.reply({ ...renderSources(list, 0, builtAt), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      return;
    }
    const check = interactionIsAdmin(interaction, context.config.ADMIN_ROLE_IDS, `${subcommand} sources`);
    if (!check.allowed) {
      await interaction.reply({ content: check.reason, flags: MessageFlags.Ephemeral });
      return;
    }
    await (subcommand === 'add' ? add(interaction, context) : remove(interaction, context));
  },

  /** Titles (and ids) that contain what has been typed so far; the value sent back is the id. */
  async autocomplete(interaction: AutocompleteInteraction, context: BotContext) {
    const typed = interaction.options.getFocused().toLowerCase();
    const matches = context.docent
      .sources()
      .sources.filter((source) => source.title.toLowerCase().includes(typed) || source.id.toLowerCase().includes(typed))
      .slice(0, MAX_SUGGESTIONS);
    // Choice names and values are limited to 100 characters; an id longer than that cannot be offered.
    await interaction.respond(
      matches.filter((source) => source.id.length <= 100).map((source) => ({ name: truncate(`${source.title} (${source.id})`, 100), value: source.id })),
    );
  },
};
