import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { BotContext } from './context.ts';
import { restOptions } from './retry.ts';
import { routeInteraction, routeMessage } from './router.ts';

/**
 * Guilds delivers interactions and the guild; GuildMessages delivers mentions. Message Content
 * is privileged and not needed: Discord includes the text of messages that mention the bot.
 */
export const INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] as const;

export function createClient(apiUrl: string | undefined): Client {
  return new Client({
    intents: [...INTENTS],
    allowedMentions: { parse: [], repliedUser: false },
    rest: restOptions(apiUrl),
  });
}

/** Wires Discord events to Docent. The client is created by the caller, so tests can point it anywhere. */
export function attachDocent(client: Client, context: BotContext): Client {
  client.on(Events.InteractionCreate, (interaction) => void routeInteraction(interaction, context));
  client.on(Events.MessageCreate, (message) => void routeMessage(message, context));
  client.on(Events.Error, (error) => context.logger.error({ err: error }, 'discord client error'));
  client.once(Events.ClientReady, (ready) => context.logger.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'Docent is online'));
  return client;
}
