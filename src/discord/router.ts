import { MessageFlags, type Interaction, type Message } from 'discord.js';
import { handleButton, UNKNOWN_BUTTON } from './buttons.ts';
import { commands, messageCommands } from './commands/index.ts';
import type { BotContext } from './context.ts';
import { logWithErrorId, reportError } from './errors.ts';
import { handleMention } from './mention.ts';

const byName = new Map(commands.map((command) => [command.data.name, command]));
const messageCommandsByName = new Map(messageCommands.map((command) => [command.data.name, command]));

const UNKNOWN_COMMAND = 'Docent does not have this command any more. An admin can run `npm run register` to update the command list.';

/** Sends each interaction to its command or button handler; any failure becomes an error id for the user. */
export async function routeInteraction(interaction: Interaction, context: BotContext): Promise<void> {
  if (interaction.isAutocomplete()) {
    // Suggestions are a courtesy: when they fail, the box stays empty and the command still works.
    await byName
      .get(interaction.commandName)
      ?.autocomplete?.(interaction, context)
      .catch((error: unknown) => context.logger.warn({ err: error, command: interaction.commandName }, 'autocomplete failed'));
    return;
  }
  if (!interaction.isRepliable()) return;
  try {
    if (interaction.isChatInputCommand()) {
      const command = byName.get(interaction.commandName);
      if (command) await command.execute(interaction, context);
      else {
        context.logger.warn({ command: interaction.commandName }, 'unknown command (run npm run register?)');
        await interaction.reply({ content: UNKNOWN_COMMAND, flags: MessageFlags.Ephemeral });
      }
    } else if (interaction.isMessageContextMenuCommand()) {
      const command = messageCommandsByName.get(interaction.commandName);
      if (command) await command.execute(interaction, context);
      else await interaction.reply({ content: UNKNOWN_COMMAND, flags: MessageFlags.Ephemeral });
    } else if (interaction.isButton()) {
      if (!(await handleButton(interaction, context))) await interaction.reply({ content: UNKNOWN_BUTTON, flags: MessageFlags.Ephemeral });
    }
  } catch (error) {
    await reportError(interaction, context.logger, error);
  }
}

export async function routeMessage(message: Message, context: BotContext): Promise<void> {
  try {
    await handleMention(message, context);
  } catch (error) {
    const errorId = logWithErrorId(context.logger, error, 'failed to answer a mention');
    await message
      .reply({ content: `Sorry, something went wrong (error id \`${errorId}\`).`, allowedMentions: { parse: [], repliedUser: false } })
      .catch(() => undefined);
  }
}
