import { REST, Routes } from 'discord.js';
import { commands } from './commands/index.ts';

/** Registers the slash commands: to one server when DISCORD_GUILD_ID is set (instant), else globally. */
export async function registerCommands(config: { DISCORD_TOKEN: string; DISCORD_CLIENT_ID: string; DISCORD_GUILD_ID?: string; DISCORD_API_URL?: string }): Promise<number> {
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const route = config.DISCORD_GUILD_ID
    ? Routes.applicationGuildCommands(config.DISCORD_CLIENT_ID, config.DISCORD_GUILD_ID)
    : Routes.applicationCommands(config.DISCORD_CLIENT_ID);
  const registered = (await rest.put(route, { body: commands.map((command) => command.data.toJSON()) })) as unknown[];
  return registered.length;
}
