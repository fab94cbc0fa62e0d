// Self-test of the fake Discord: drives the REAL discord.js Client and REST through it.
import { EventEmitter, once } from 'node:events';
import { constants as zlibConstants, createInflate } from 'node:zlib';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  MessageFlags,
  REST,
  Routes,
  type Interaction,
  type Message,
} from 'discord.js';
import { startFakeDiscord, type FakeDiscord, type RecordedRequest } from './fakeDiscord.ts';

const TOKEN = 'fake-bot-token.for.tests';
// No MessageContent on purpose: the bot under test only needs content when mentioned.
const INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages];

const answerEmbed = new EmbedBuilder()
  .setTitle('Quote')
  .setDescription('"Exactly as written." — Article 1')
  .addFields({ name: 'Source', value: 'articles/one.md' });
const moreRow = new ActionRowBuilder<ButtonBuilder>().addComponents(
  new ButtonBuilder().setCustomId('more').setLabel('More').setStyle(ButtonStyle.Primary),
  new ButtonBuilder().setCustomId('swap').setLabel('Swap').setStyle(ButtonStyle.Secondary),
);

let fake: FakeDiscord;
let client: Client;
const handled = new EventEmitter(); // emits `<interaction or message id>` with the handler's result
const handlerErrors: unknown[] = [];
const seenMessages: Message[] = [];

async function onInteraction(interaction: Interaction): Promise<unknown> {
  if (interaction.isChatInputCommand() && interaction.commandName === 'ask') {
    await interaction.deferReply();
    const question = interaction.options.getString('question', true);
    return interaction.editReply({ content: `Q: ${question}`, embeds: [answerEmbed], components: [moreRow] });
  }
  if (interaction.isChatInputCommand() && interaction.commandName === 'ping') {
    const response = await interaction.reply({ content: 'pong', withResponse: true });
    return response.resource?.message;
  }
  if (interaction.isButton() && interaction.customId === 'more') {
    await interaction.deferUpdate();
    return interaction.followUp({
      content: 'full article attached',
      files: [{ attachment: Buffer.from('# Article one\n'), name: 'one.md' }],
      flags: MessageFlags.Ephemeral,
    });
  }
  if (interaction.isButton() && interaction.customId === 'swap') {
    return interaction.update({ content: 'swapped', components: [] });
  }
  return undefined;
}

async function onMessage(message: Message): Promise<unknown> {
  seenMessages.push(message);
  if (!client.user || !message.mentions.users.has(client.user.id)) return undefined;
  return message.reply({ content: 'Here is what the articles say.', allowedMentions: { parse: [] } });
}

/** Runs a handler and reports its outcome under the triggering id, so tests await completion instead of sleeping. */
function track<T extends { id: string }>(handler: (item: T) => Promise<unknown>) {
  return (item: T) => {
    handler(item).then(
      (result) => handled.emit(item.id, result),
      (error: unknown) => {
        handlerErrors.push(error);
        handled.emit(item.id, error);
      },
    );
  };
}

const handledOnce = async (id: string) => (await once(handled, id))[0] as unknown;

beforeAll(async () => {
  fake = await startFakeDiscord({ token: TOKEN });
  client = new Client({ intents: INTENTS, rest: { api: fake.apiUrl } });
  client.on(Events.InteractionCreate, track(onInteraction));
  client.on(Events.MessageCreate, track(onMessage));
  const ready = once(client, Events.ClientReady);
  await client.login(TOKEN);
  await ready;
});

afterEach(() => {
  expect(handlerErrors).toEqual([]);
});

afterAll(async () => {
  await client?.destroy();
  await fake?.close();
});

/** What a builder's JSON looks like after JSON.stringify drops undefined fields. */
const onTheWire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const indexOf = (request: RecordedRequest) => fake.requests.indexOf(request);

describe('fake Discord with the real discord.js client', () => {
  it('identifies with the requested intents and caches the guild', async () => {
    expect(fake.identifies).toHaveLength(1);
    expect(fake.identifies[0]!.intents).toBe(client.options.intents.bitfield);
    expect(fake.identifies[0]!.intents).toBe(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages);

    const gatewayBot = await fake.waitForRequest((r) => r.path === '/gateway/bot');
    expect(gatewayBot.authorization).toBe(`Bot ${TOKEN}`);
    expect(JSON.stringify(gatewayBot)).not.toContain(TOKEN);

    expect(client.user?.id).toBe(fake.botUser.id);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(fake.guild.id);
    expect(guild?.available).toBe(true);
    expect(guild?.channels.cache.get(fake.guild.textChannelId)?.isTextBased()).toBe(true);
    expect(guild?.roles.cache.get(fake.guild.adminRoleId)?.permissions.has('Administrator')).toBe(true);
    expect(guild?.members.me?.id).toBe(fake.botUser.id);
  });

  it('registers commands through @discordjs/rest', async () => {
    const rest = new REST({ api: fake.apiUrl }).setToken(TOKEN);
    const ask = {
      name: 'ask',
      description: 'Ask the articles',
      options: [{ name: 'question', description: 'What to ask', type: ApplicationCommandOptionType.String, required: true }],
    };
    const global = (await rest.put(Routes.applicationCommands(fake.applicationId), { body: [ask] })) as Array<{ id: string; name: string }>;
    const scoped = (await rest.put(Routes.applicationGuildCommands(fake.applicationId, fake.guild.id), { body: [ask] })) as Array<{
      id: string;
      guild_id: string;
    }>;

    expect(global).toEqual([expect.objectContaining({ name: 'ask', id: expect.any(String), application_id: fake.applicationId })]);
    expect(scoped[0]?.guild_id).toBe(fake.guild.id);
    expect(fake.globalCommands.map((c) => c.name)).toEqual(['ask']);
    expect(fake.guildCommands()).toHaveLength(1);
    const put = await fake.waitForRequest((r) => r.method === 'PUT' && r.path.endsWith('/commands'));
    expect(put.authorization).toBe(`Bot ${TOKEN}`);
    expect(put.body).toEqual([ask]);

    // Re-registering keeps ids stable, as Discord's bulk overwrite does.
    const again = (await rest.put(Routes.applicationCommands(fake.applicationId), { body: [ask] })) as Array<{ id: string }>;
    expect(again[0]?.id).toBe(global[0]?.id);
  });

  it('defers then edits the original reply of a slash command', async () => {
    const payload = fake.slashCommand({ name: 'ask', options: { question: 'What is written?' } });
    const done = handledOnce(payload.id);
    fake.dispatchInteraction(payload);

    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`);
    expect(callback.method).toBe('POST');
    expect(callback.body).toMatchObject({ type: 5 });
    expect((callback.body as { data?: { flags?: number } }).data?.flags ?? 0).toBe(0); // not ephemeral
    expect(callback.authorization).toBeNull(); // interaction routes are token-authenticated, not bot-authenticated
    expect(callback.status).toBe(204);

    const edit = await fake.waitForRequest((r) => r.method === 'PATCH' && r.path === `/webhooks/${fake.applicationId}/${payload.token}/messages/@original`);
    expect(indexOf(edit)).toBeGreaterThan(indexOf(callback));
    expect(edit.body).toMatchObject({
      content: 'Q: What is written?',
      embeds: [onTheWire(answerEmbed.toJSON())],
      components: [onTheWire(moreRow.toJSON())],
    });

    const reply = (await done) as Message;
    expect(reply.embeds[0]?.title).toBe('Quote');
    expect(reply.author.id).toBe(fake.botUser.id);
    expect(reply.flags.has(MessageFlags.Loading)).toBe(false);
  });

  it('serves with_response=true callbacks as an InteractionCallbackResponse', async () => {
    const payload = fake.slashCommand({ name: 'ping', user: { username: 'someone-else' } });
    const done = handledOnce(payload.id);
    fake.dispatchInteraction(payload);
    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`);
    expect(callback.query).toEqual({ with_response: 'true' });
    expect(callback.body).toMatchObject({ type: 4, data: { content: 'pong' } });
    const message = (await done) as Message;
    expect(message.content).toBe('pong');
    expect(fake.messages.get(message.id)?.content).toBe('pong');
  });

  it('handles a button press with deferUpdate + an ephemeral follow-up carrying a file', async () => {
    const edit = await fake.waitForRequest((r) => r.method === 'PATCH' && r.path.endsWith('/messages/@original'));
    const botMessage = edit.response as { id: string };
    const payload = fake.buttonPress({ customId: 'more', message: botMessage.id, roles: [fake.guild.adminRoleId] });
    expect(payload.member.permissions).not.toBe('0');
    const done = handledOnce(payload.id);
    fake.dispatchInteraction(payload);

    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`);
    expect(callback.body).toEqual({ type: 6 });
    const followUp = await fake.waitForRequest((r) => r.method === 'POST' && r.path === `/webhooks/${fake.applicationId}/${payload.token}`);
    expect(followUp.contentType).toMatch(/^multipart\/form-data/);
    expect(followUp.body).toMatchObject({ content: 'full article attached', flags: MessageFlags.Ephemeral });
    expect(followUp.files).toEqual([expect.objectContaining({ field: 'files[0]', filename: 'one.md' })]);
    expect(followUp.files[0]?.data.toString()).toBe('# Article one\n');

    const message = (await done) as Message;
    expect(message.flags.has(MessageFlags.Ephemeral)).toBe(true);
    expect(message.attachments.first()?.name).toBe('one.md');
  });

  it('updates the message a button lives on', async () => {
    const payload = fake.buttonPress({ customId: 'swap' });
    const done = handledOnce(payload.id);
    fake.dispatchInteraction(payload);
    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`);
    expect(callback.body).toEqual({ type: 7, data: expect.objectContaining({ content: 'swapped', components: [] }) });
    await done;
    expect(fake.messages.get(payload.message.id)?.content).toBe('swapped');
  });

  it('replies to a mention without pinging anyone, and hides content of unmentioned messages', async () => {
    const chatter = fake.messageCreate({ content: 'just chatting' });
    const chatterSeen = handledOnce(chatter.id);
    fake.dispatchMessage(chatter);
    await chatterSeen;
    // Without the MessageContent intent Discord blanks content unless the bot is mentioned.
    expect(seenMessages.find((m) => m.id === chatter.id)?.content).toBe('');

    const question = fake.messageCreate({ content: `<@${fake.botUser.id}> what does article one say?` });
    const done = handledOnce(question.id);
    fake.dispatchMessage(question);
    const post = await fake.waitForRequest((r) => r.method === 'POST' && r.path === `/channels/${fake.guild.textChannelId}/messages`);
    expect(post.authorization).toBe(`Bot ${TOKEN}`);
    expect(post.body).toMatchObject({
      content: 'Here is what the articles say.',
      allowed_mentions: { parse: [] },
      message_reference: { message_id: question.id },
    });
    const reply = (await done) as Message;
    expect(reply.reference?.messageId).toBe(question.id);
    expect(seenMessages.find((m) => m.id === question.id)?.content).toContain('what does article one say?');
  });

  it('answers unknown routes with 404 and rejects what Discord would reject', async () => {
    await expect(client.rest.get('/definitely/not/a/route')).rejects.toBeInstanceOf(DiscordAPIError);
    const unknown = await fake.waitForRequest((r) => r.path === '/definitely/not/a/route');
    expect(unknown).toMatchObject({ status: 404, response: { message: 'Unknown route (fake)', code: 0 } });

    const channel = client.channels.cache.get(fake.guild.textChannelId);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    await expect(channel.send({ content: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 50035, status: 400 });
    await expect(channel.send({ embeds: [{ description: 'y'.repeat(4097) }] })).rejects.toMatchObject({ code: 50035 });
  });

  it('enforces one acknowledgement per interaction token', async () => {
    const payload = fake.slashCommand({ name: 'unhandled' }); // the bot ignores it, so the test answers directly
    const done = handledOnce(payload.id);
    fake.dispatchInteraction(payload);
    await done;
    const callback = Routes.interactionCallback(payload.id, payload.token);
    const reply = { type: 4, data: { content: 'by hand' } };
    await client.rest.post(callback, { body: reply, auth: false });
    await expect(client.rest.post(callback, { body: reply, auth: false })).rejects.toMatchObject({ code: 40060 });
    await expect(client.rest.post(Routes.interactionCallback(payload.id, 'forged'), { body: reply, auth: false })).rejects.toMatchObject({
      code: 10062,
    });
    const original = (await client.rest.get(Routes.webhookMessage(fake.applicationId, payload.token))) as { content: string };
    expect(original.content).toBe('by hand');
  });

  it('survives a dropped gateway connection by resuming', async () => {
    const resumed = once(client, Events.ShardResume);
    fake.disconnectGateway();
    await resumed;
    expect(fake.identifies).toHaveLength(1);
    await fake.waitForGatewayPayload((p) => p.op === 6);

    const payload = fake.slashCommand({ name: 'ask', options: { question: 'still there?' } });
    const done = handledOnce(payload.id);
    fake.dispatchInteraction(payload);
    await done;
  });
});

describe('fake gateway transport', () => {
  it('acks heartbeats and closes 4004 on a wrong token', async () => {
    const standalone = await startFakeDiscord({ token: 'right' });
    try {
      const socket = new WebSocket(`${standalone.gatewayUrl}?v=10&encoding=json`);
      const next = async () => JSON.parse(String((await once(socket, 'message'))[0])) as { op: number };
      expect(await next()).toMatchObject({ op: 10 });
      socket.send(JSON.stringify({ op: 1, d: null }));
      expect(await next()).toMatchObject({ op: 11 });
      const closed = once(socket, 'close');
      socket.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 1, properties: {} } }));
      expect((await closed)[0]).toBe(4004);
      expect(standalone.identifies).toHaveLength(0);
    } finally {
      await standalone.close();
    }
  });

  it('speaks zlib-stream when asked (what discord.js does if zlib-sync is installed)', async () => {
    const standalone = await startFakeDiscord();
    try {
      const socket = new WebSocket(`${standalone.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
      const inflate = createInflate();
      const [data] = (await once(socket, 'message')) as [Buffer];
      expect(data.subarray(-4)).toEqual(Buffer.from([0, 0, 0xff, 0xff]));
      inflate.write(data);
      await new Promise<void>((resolve) => inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
      const hello = JSON.parse((inflate.read() as Buffer).toString()) as { op: number; d: { heartbeat_interval: number } };
      expect(hello).toMatchObject({ op: 10, d: { heartbeat_interval: 41_250 } });
      socket.terminate();
    } finally {
      await standalone.close();
    }
  });
});
