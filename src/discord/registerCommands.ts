import { REST, Routes, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { commands, messageCommands } from './commands/index.ts';

export interface RegisterSettings {
  readonly DISCORD_TOKEN: string;
  readonly DISCORD_CLIENT_ID: string;
  readonly DISCORD_GUILD_ID?: string;
  readonly DISCORD_API_URL?: string;
  readonly MAX_QUESTION_CHARS: number;
}

/**
 * The commands as Discord should know them, with every `question` option limited to
 * MAX_QUESTION_CHARS, so Discord's own box stops a longer question before it is sent (the bot
 * keeps its own check).
 */
export function commandPayloads(maxQuestionChars: number): RESTPostAPIApplicationCommandsJSONBody[] {
  return commands
    .map((command) => {
      const json = command.data.toJSON();
      const options = json.options?.map((option) => (option.name === 'question' && option.type === 3 ? { ...option, max_length: maxQuestionChars } : option));
      return { ...json, ...(options ? { options } : {}) } as RESTPostAPIApplicationCommandsJSONBody;
    })
    .concat(messageCommands.map((command) => command.data.toJSON()));
}

/** Registers the slash commands: to one server when DISCORD_GUILD_ID is set (instant), else globally. */
export async function registerCommands(config: RegisterSettings): Promise<number> {
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const route = config.DISCORD_GUILD_ID
    ? Routes.applicationGuildCommands(config.DISCORD_CLIENT_ID, config.DISCORD_GUILD_ID)
    : Routes.applicationCommands(config.DISCORD_CLIENT_ID);
  const registered = (await rest.put(route, { body: commandPayloads(config.MAX_QUESTION_CHARS) })) as unknown[];
  return registered.length;
}
