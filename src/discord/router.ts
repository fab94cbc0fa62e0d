import type { Interaction, Message } from 'discord.js';
import { handleButton } from './buttons.ts';
import { commands } from './commands/index.ts';
import type { BotContext } from './context.ts';
import { logWithErrorId, reportError } from './errors.ts';
import { handleMention } from './mention.ts';

const byName = new Map(commands.map((command) => [command.data.name, command]));

/** Sends each interaction to its command or button handler; any failure becomes an error id for the user. */
export async function routeInteraction(interaction: Interaction, context: BotContext): Promise<void> {
  if (!interaction.isRepliable()) return;
  try {
    if (interaction.isChatInputCommand()) {
      const command = byName.get(interaction.commandName);
      if (command) await command.execute(interaction, context);
      else context.logger.warn({ command: interaction.commandName }, 'unknown command (run npm run register?)');
    } else if (interaction.isButton()) {
      await handleButton(interaction, context);
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
    await message.reply({ content: `Sorry, something went wrong (error id \`${errorId}\`).`, allowedMentions: { parse: [], repliedUser: false } }).catch(() => undefined);
  }
}
