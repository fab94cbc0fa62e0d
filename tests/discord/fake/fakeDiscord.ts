// A wire-level Discord stand-in for end-to-end tests: one loopback HTTP server that serves
// the v10 REST routes a bot uses plus the gateway WebSocket, so the REAL discord.js client
// (REST queue, gateway shard, caching, interaction helpers) runs unmodified against it.
//
// Wiring (verified against @discordjs/rest 2.6 and @discordjs/ws 1.2):
//   new Client({ intents, rest: { api: fake.apiUrl } })   // rest builds `${api}/v10${route}`
//   new REST({ api: fake.apiUrl }).setToken(token)
// The gateway URL comes from GET /gateway/bot; @discordjs/ws appends `?v=10&encoding=json`
// and only adds `&compress=zlib-stream` when the optional `zlib-sync` package is installed
// (it is not in this project). Both forms are served: zlib-stream via node:zlib.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants as zlibConstants, createDeflate } from 'node:zlib';
import { WebSocket, WebSocketServer } from 'ws';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ComponentType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  GatewayOpcodes,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
  PermissionFlagsBits,
  type APIApplicationCommand,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIChatInputApplicationCommandGuildInteraction,
  type APIGuildMember,
  type APIInteraction,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentGuildInteraction,
  type APIRole,
  type APITextChannel,
  type APIUser,
  type GatewayGuildCreateDispatchData,
  type GatewayIdentifyData,
  type GatewayMessageCreateDispatchData,
  type GatewayReadyDispatchData,
  type ApplicationFlags,
  type UserFlags,
} from 'discord.js';
import {
  DEFAULT_LOCALE,
  EVERYONE_PERMISSIONS,
  guildDefaults,
  basePermissions,
  makeMember,
  makeMessage,
  makeRole,
  makeTextChannel,
  makeUser,
  snowflake,
  validateMessageBody,
  type DiscordErrorBody,
  type MessageBody,
} from './payloads.ts';

export { snowflake } from './payloads.ts';

// ---------------------------------------------------------------------------
// Public types

export interface FakeDiscordOptions {
  /** Overrides for the bot's user object (id, username, ...). The application id equals the bot id, as on Discord. */
  botUser?: Partial<APIUser>;
  guildName?: string;
  /** Names of the guild's text channels; the first is `fake.guild.textChannelId`. Default ['general', 'random']. */
  textChannels?: string[];
  /** Sent in HELLO. Discord uses 41250; discord.js waits interval*jitter before its first heartbeat. */
  heartbeatIntervalMs?: number;
  /** Interaction callbacks later than this after dispatch fail with 10062 Unknown interaction, like Discord's 3 s rule. null disables. */
  interactionAckDeadlineMs?: number | null;
  /** When set, REST calls and IDENTIFY with any other token fail (401 / close 4004). By default any token is accepted. */
  token?: string;
  /** Privileged intents "not enabled in the developer portal": IDENTIFY asking for them is closed with 4014. */
  disallowedIntents?: number;
}

export interface RecordedFile {
  /** Multipart field name, e.g. "files[0]". */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface RecordedRequest {
  method: string;
  /** Path after /api/v10, without query: e.g. "/interactions/123/tok/callback". */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or the parsed `payload_json` part of a multipart body; undefined without a body. */
  body: unknown;
  files: RecordedFile[];
  contentType: string | null;
  /** Response status; always set by the time waitForRequest resolves. */
  status?: number;
  response?: unknown;
  /** "Bot <token>" or null. Non-enumerable so a failing assertion's diff never prints it. */
  readonly authorization: string | null;
}

export interface RecordedGatewayPayload {
  op: number;
  /** Payload data; for IDENTIFY and RESUME the token is moved to a non-enumerable `token` property. */
  d: unknown;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  everyoneRoleId: string;
  /** A role with the Administrator permission. */
  adminRoleId: string;
  /** The bot's managed role. */
  botRoleId: string;
  /** First text channel. */
  textChannelId: string;
  /** All text channels by name. */
  channelIds: Record<string, string>;
}

export interface InteractionActor {
  /** The invoking user; defaults to `fake.defaultUser`. Users are remembered as guild members. */
  user?: Partial<APIUser>;
  /** Role ids of the member. Defaults to the member's current roles (none for a new member). */
  roles?: string[];
  /** member.permissions override; by default computed from @everyone + roles (Administrator => all). */
  permissions?: string | bigint;
  channelId?: string;
}

export type SlashOptionValues = Record<string, string | number | boolean>;

export interface SlashCommandInput extends InteractionActor {
  name: string;
  /** Either a name → value map (types taken from the registered command, else inferred) or raw API options. */
  options?: SlashOptionValues | APIApplicationCommandInteractionDataOption[];
}

export interface ButtonPressInput extends InteractionActor {
  customId: string;
  /** The message carrying the button: an object or an id the fake knows. Default: a fresh bot message with that button. */
  message?: APIMessage | string;
}

export interface MessageCreateInput {
  content: string;
  author?: Partial<APIUser>;
  /** Extra mentioned users; `<@id>` mentions in content are picked up automatically. */
  mentions?: Array<string | APIUser>;
  roles?: string[];
  channelId?: string;
  /** Makes the message a reply to this message id. */
  replyTo?: string;
}

export interface FakeDiscord {
  /** Pass as `rest: { api }` to Client / REST. */
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly botUser: APIUser;
  readonly applicationId: string;
  readonly guild: FakeGuild;
  /** A plain guild member used by the builders when no user is given. */
  readonly defaultUser: APIUser;
  /** Every HTTP request in arrival order, including unknown routes (404, code 0). */
  readonly requests: readonly RecordedRequest[];
  /** Every gateway payload received from clients. */
  readonly gatewayPayloads: readonly RecordedGatewayPayload[];
  /** IDENTIFY payloads (token moved to a non-enumerable property). */
  readonly identifies: readonly GatewayIdentifyData[];
  /** Every message the fake knows: bot-created via REST and dispatched via dispatchMessage/buttonPress. */
  readonly messages: ReadonlyMap<string, APIMessage>;
  readonly globalCommands: readonly APIApplicationCommand[];
  guildCommands(guildId?: string): readonly APIApplicationCommand[];

  /** Resolves with the first recorded request (past or future) matching predicate, after its response is sent. */
  waitForRequest(predicate: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  waitForGatewayPayload(predicate: (payload: RecordedGatewayPayload) => boolean, timeoutMs?: number): Promise<RecordedGatewayPayload>;

  /** Sends a raw dispatch (op 0) to the live session; throws if no bot has identified. */
  dispatch(event: string, data: unknown): void;
  dispatchInteraction(payload: APIInteraction): void;
  /** Applies Discord's intent rules: throws without GuildMessages; blanks content without MessageContent unless the bot is mentioned. */
  dispatchMessage(payload: GatewayMessageCreateDispatchData): void;

  slashCommand(input: SlashCommandInput): APIChatInputApplicationCommandGuildInteraction;
  buttonPress(input: ButtonPressInput): APIMessageComponentGuildInteraction;
  messageCreate(input: MessageCreateInput): GatewayMessageCreateDispatchData;

  /** Closes the live gateway socket (default 4000, resumable) to exercise reconnect/RESUME. */
  disconnectGateway(code?: number): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Internals

/** A class, not a plain object, so handlers can return "entity or error" and callers tell them apart with instanceof. */
class RouteResult {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

interface RouteContext {
  params: Record<string, string>;
  body: unknown;
  request: RecordedRequest;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  botAuth: boolean;
  handle: (ctx: RouteContext) => RouteResult;
}

interface InteractionState {
  payload: APIInteraction;
  dispatchedAt: number;
  acknowledged: boolean;
  originalMessageId: string | null;
}

interface Session {
  id: string;
  seq: number;
  intents: number;
  token: string;
  connection: GatewayConnection | null;
  /** Sent dispatches, replayed on RESUME. */
  history: Array<{ op: 0; t: string; s: number; d: unknown }>;
}

interface GatewayConnection {
  socket: WebSocket;
  send: (payload: unknown) => void;
  session: Session | null;
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (error: Error) => void;
}

const ok = (body: unknown, status = 200) => new RouteResult(status, body);
const noContent = () => new RouteResult(204);
const fail = (status: number, code: number, message: string) => new RouteResult(status, { code, message });
const invalid = (error: DiscordErrorBody) => new RouteResult(400, error);
const isResult = (value: unknown): value is RouteResult => value instanceof RouteResult;

function hideSecret<T extends object>(target: T, key: string, value: unknown): T {
  Object.defineProperty(target, key, { value, enumerable: false });
  return target;
}

function redactToken(d: unknown): unknown {
  if (typeof d !== 'object' || d === null || !('token' in d)) return d;
  const { token, ...rest } = d as Record<string, unknown>;
  return hideSecret(rest, 'token', token);
}

function decodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseBody(raw: Buffer, contentType: string | null): Promise<{ body: unknown; files: RecordedFile[] }> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    // undici's Request already implements multipart parsing; no need for a hand-rolled parser.
    const form = await new Request('http://fake.invalid', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
    let body: unknown;
    const files: RecordedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = JSON.parse(value);
      } else {
        files.push({ field, filename: value.name, contentType: value.type, data: Buffer.from(await value.arrayBuffer()) });
      }
    }
    return { body, files };
  }
  const text = raw.toString('utf8');
  try {
    return { body: JSON.parse(text), files: [] };
  } catch {
    return { body: text, files: [] };
  }
}

/** zlib-stream is one deflate context for the whole connection, each payload ending in a sync flush. */
function makeSender(socket: WebSocket, zlibStream: boolean): (payload: unknown) => void {
  const sendRaw = (data: string | Buffer) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(data);
  };
  if (!zlibStream) return (payload) => sendRaw(JSON.stringify(payload));
  const deflate = createDeflate();
  let queue = Promise.resolve();
  return (payload) => {
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          deflate.write(JSON.stringify(payload));
          deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            const out: Buffer[] = [];
            for (let chunk: Buffer | null; (chunk = deflate.read() as Buffer | null) !== null; ) out.push(chunk);
            sendRaw(Buffer.concat(out));
            resolve();
          });
        }),
    );
  };
}

function waitFor<T>(items: readonly T[], waiters: Set<Waiter<T>>, predicate: (item: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
  const found = items.find(predicate);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise<T>((resolve, reject) => {
    const waiter: Waiter<T> = {
      predicate,
      resolve: (item) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(item);
      },
      reject: (error) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(error);
      },
    };
    const timer = setTimeout(() => {
      waiters.delete(waiter);
      reject(new Error(`Fake Discord: nothing matched within ${timeoutMs} ms. Seen so far:\n${describe()}`));
    }, timeoutMs);
    waiters.add(waiter);
  });
}

function notify<T>(waiters: Set<Waiter<T>>, item: T): void {
  for (const waiter of [...waiters]) if (waiter.predicate(item)) waiter.resolve(item);
}

// ---------------------------------------------------------------------------

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;
  const ackDeadlineMs = options.interactionAckDeadlineMs === undefined ? 3_000 : options.interactionAckDeadlineMs;

  const botUser = makeUser({ username: 'Docent', bot: true, ...options.botUser });
  const applicationId = botUser.id;
  const owner = makeUser({ username: 'owner' });
  const defaultUser = makeUser({ username: 'asker' });

  const guildId = snowflake();
  const roles: APIRole[] = [
    makeRole({ id: guildId, name: '@everyone', position: 0, permissions: String(EVERYONE_PERMISSIONS) }),
    makeRole({ id: snowflake(), name: 'Admin', position: 2, permissions: String(PermissionFlagsBits.Administrator), hoist: true }),
    makeRole({
      id: snowflake(),
      name: botUser.username,
      position: 1,
      managed: true,
      tags: { bot_id: botUser.id },
      permissions: String(EVERYONE_PERMISSIONS | PermissionFlagsBits.ManageMessages | PermissionFlagsBits.UseExternalEmojis),
    }),
  ];
  const [everyoneRole, adminRole, botRole] = roles as [APIRole, APIRole, APIRole];
  const channels = new Map<string, APITextChannel>();
  (options.textChannels ?? ['general', 'random']).forEach((name, i) => {
    const channel = makeTextChannel(guildId, snowflake(), name, i);
    channels.set(channel.id, channel);
  });
  const firstChannel = [...channels.values()][0];
  if (!firstChannel) throw new Error('Fake Discord needs at least one text channel');
  const guild: FakeGuild = {
    id: guildId,
    name: options.guildName ?? 'Docent Test Guild',
    ownerId: owner.id,
    everyoneRoleId: everyoneRole.id,
    adminRoleId: adminRole.id,
    botRoleId: botRole.id,
    textChannelId: firstChannel.id,
    channelIds: Object.fromEntries([...channels.values()].map((c) => [c.name, c.id])),
  };

  const users = new Map<string, APIUser>([botUser, owner, defaultUser].map((u) => [u.id, u]));
  const members = new Map<string, APIGuildMember>([
    [botUser.id, makeMember(botUser, [botRole.id])],
    [owner.id, makeMember(owner, [adminRole.id])],
    [defaultUser.id, makeMember(defaultUser, [])],
  ]);
  const messages = new Map<string, APIMessage>();
  const interactions = new Map<string, InteractionState>();
  const globalCommands: APIApplicationCommand[] = [];
  const guildCommands = new Map<string, APIApplicationCommand[]>();
  const requests: RecordedRequest[] = [];
  const requestWaiters = new Set<Waiter<RecordedRequest>>();
  const gatewayPayloads: RecordedGatewayPayload[] = [];
  const gatewayWaiters = new Set<Waiter<RecordedGatewayPayload>>();
  const identifies: GatewayIdentifyData[] = [];
  const sessions = new Map<string, Session>();
  const connections = new Set<GatewayConnection>();
  let liveSession: Session | null = null;

  const permissionsOf = (userId: string): bigint => basePermissions(roles, members.get(userId)?.roles ?? [], guildId, userId === owner.id);

  const upsertUser = (partial: Partial<APIUser> | undefined): APIUser => {
    if (!partial) return defaultUser;
    const user = makeUser({ ...(partial.id ? users.get(partial.id) : undefined), ...partial });
    users.set(user.id, user);
    return user;
  };

  const upsertMember = (user: APIUser, roleIds: string[] | undefined): APIGuildMember => {
    const existing = members.get(user.id);
    const member = existing ? { ...existing, user, roles: roleIds ?? existing.roles } : makeMember(user, roleIds ?? []);
    members.set(user.id, member);
    return member;
  };

  const memberNoUser = (member: APIGuildMember) => {
    const { user: _user, ...rest } = member;
    return { ...rest, joined_at: member.joined_at ?? new Date().toISOString() };
  };

  // ------------------------------------------------------------------- gateway

  function dispatch(event: string, data: unknown): void {
    const session = liveSession;
    if (!session) throw new Error(`Fake Discord: cannot dispatch ${event}, no bot session has identified`);
    const payload = { op: 0 as const, t: event, s: ++session.seq, d: data };
    session.history.push(payload);
    // While disconnected the event is only buffered, then replayed on RESUME like Discord does.
    session.connection?.send(payload);
  }

  function guildCreatePayload(): GatewayGuildCreateDispatchData {
    return {
      ...guildDefaults(),
      id: guildId,
      name: guild.name,
      owner_id: owner.id,
      roles,
      system_channel_id: firstChannel!.id,
      joined_at: members.get(botUser.id)!.joined_at!,
      large: false,
      unavailable: false,
      member_count: members.size,
      voice_states: [],
      // Without GUILD_PRESENCES Discord only sends the bot's own member here.
      members: [members.get(botUser.id)!],
      channels: [...channels.values()],
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  function onIdentify(connection: GatewayConnection, d: GatewayIdentifyData): void {
    if (connection.session) {
      connection.socket.close(4005, 'Already authenticated.');
      return;
    }
    if (options.token !== undefined && d.token !== options.token) {
      connection.socket.close(4004, 'Authentication failed.');
      return;
    }
    if (typeof d.intents !== 'number' || d.intents < 0) {
      connection.socket.close(4013, 'Invalid intent(s).');
      return;
    }
    if (d.intents & (options.disallowedIntents ?? 0)) {
      connection.socket.close(4014, 'Disallowed intent(s).');
      return;
    }
    identifies.push(redactToken(d) as GatewayIdentifyData);
    const session: Session = {
      id: randomBytes(16).toString('hex'),
      seq: 0,
      intents: d.intents,
      token: d.token,
      connection,
      history: [],
    };
    sessions.set(session.id, session);
    connection.session = session;
    liveSession = session;
    const ready: GatewayReadyDispatchData = {
      v: 10,
      user: { ...botUser, verified: true, mfa_enabled: false, flags: 0 as UserFlags },
      guilds: [{ id: guildId, unavailable: true }],
      session_id: session.id,
      resume_gateway_url: gatewayUrl,
      shard: d.shard ?? [0, 1],
      application: { id: applicationId, flags: 0 as ApplicationFlags, flags_new: '0' },
    };
    dispatch(GatewayDispatchEvents.Ready, ready);
    // Discord only streams guilds to clients that asked for them.
    if (d.intents & GatewayIntentBits.Guilds) dispatch(GatewayDispatchEvents.GuildCreate, guildCreatePayload());
  }

  function onResume(connection: GatewayConnection, d: { session_id: string; seq: number; token: string }): void {
    const session = sessions.get(d.session_id);
    if (!session || session.token !== d.token) {
      connection.send({ op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
      return;
    }
    session.connection = connection;
    connection.session = session;
    liveSession = session;
    for (const missed of session.history) if (missed.s > d.seq) connection.send(missed);
    dispatch(GatewayDispatchEvents.Resumed, null);
  }

  function onGatewayMessage(connection: GatewayConnection, raw: string): void {
    let payload: { op: number; d: unknown };
    try {
      payload = JSON.parse(raw) as { op: number; d: unknown };
    } catch {
      connection.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    const recorded: RecordedGatewayPayload = { op: payload.op, d: redactToken(payload.d) };
    gatewayPayloads.push(recorded);
    switch (payload.op) {
      case GatewayOpcodes.Heartbeat:
        connection.send({ op: GatewayOpcodes.HeartbeatAck, d: null, s: null, t: null });
        break;
      case GatewayOpcodes.Identify:
        onIdentify(connection, payload.d as GatewayIdentifyData);
        break;
      case GatewayOpcodes.Resume:
        onResume(connection, payload.d as { session_id: string; seq: number; token: string });
        break;
      case GatewayOpcodes.RequestGuildMembers: {
        // Answer so guild.members.fetch() resolves instead of hanging until its timeout.
        const request = payload.d as { guild_id: string; user_ids?: string | string[]; query?: string; nonce?: string };
        const ids = request.user_ids === undefined ? null : [request.user_ids].flat();
        const found = [...members.values()].filter((m) => (ids ? ids.includes(m.user.id) : m.user.username.startsWith(request.query ?? '')));
        if (connection.session) {
          dispatch(GatewayDispatchEvents.GuildMembersChunk, {
            guild_id: request.guild_id,
            members: found,
            chunk_index: 0,
            chunk_count: 1,
            not_found: ids ? ids.filter((id) => !members.has(id)) : [],
            nonce: request.nonce,
          });
        }
        break;
      }
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        break;
      default:
        connection.socket.close(4001, 'Unknown opcode.');
    }
    notify(gatewayWaiters, recorded);
  }

  // ---------------------------------------------------------------------- REST

  const routes: Route[] = [];
  const route = (method: string, path: string, handle: Route['handle'], botAuth = true) => {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:(\w+)/g, (_, key: string) => {
        keys.push(key);
        return '([^/]+)';
      })}$`,
    );
    routes.push({ method, pattern, keys, botAuth, handle });
  };

  const requireChannel = (channelId: string): APITextChannel | RouteResult => channels.get(channelId) ?? fail(404, 10003, 'Unknown Channel');

  const interactionByToken = (appId: string, token: string): InteractionState | RouteResult => {
    const state = interactions.get(token);
    return appId === applicationId && state ? state : fail(404, 10015, 'Unknown Webhook');
  };

  function attachmentsFor(files: RecordedFile[]): APIAttachment[] {
    return files.map((file) => {
      const id = snowflake();
      const url = `https://cdn.discordapp.com.invalid/attachments/${id}/${encodeURIComponent(file.filename)}`;
      return { id, filename: file.filename, size: file.data.length, url, proxy_url: url, content_type: file.contentType };
    });
  }

  /** Builds and stores the message Discord would create from a message body. */
  function createMessage(channelId: string, body: MessageBody, files: RecordedFile[], extra: Partial<APIMessage> = {}): APIMessage {
    const referenced = body.message_reference?.message_id ? messages.get(body.message_reference.message_id) : undefined;
    const message = makeMessage({
      channel_id: channelId,
      author: botUser,
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      components: (body.components ?? []) as APIMessage['components'],
      attachments: attachmentsFor(files),
      flags: body.flags ?? 0,
      tts: body.tts ?? false,
      ...(referenced
        ? {
            type: MessageType.Reply,
            message_reference: { type: 0, message_id: referenced.id, channel_id: referenced.channel_id, guild_id: guildId },
            referenced_message: referenced,
          }
        : {}),
      ...extra,
    });
    messages.set(message.id, message);
    return message;
  }

  function editMessage(message: APIMessage, body: MessageBody, files: RecordedFile[]): APIMessage {
    const edited: APIMessage = {
      ...message,
      ...(body.content !== undefined ? { content: body.content ?? '' } : {}),
      ...(body.embeds !== undefined ? { embeds: body.embeds ?? [] } : {}),
      ...(body.components !== undefined ? { components: (body.components ?? []) as APIMessage['components'] } : {}),
      ...(files.length > 0 || body.attachments !== undefined ? { attachments: attachmentsFor(files) } : {}),
      // Editing the deferred "thinking…" message is what makes it a real reply.
      flags: (message.flags ?? 0) & ~MessageFlags.Loading,
      edited_timestamp: new Date().toISOString(),
    };
    messages.set(edited.id, edited);
    return edited;
  }

  route('GET', '/gateway', () => ok({ url: gatewayUrl }), false);
  route('GET', '/gateway/bot', () =>
    ok({ url: gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } }),
  );
  route('GET', '/users/@me', () => ok(botUser));
  route('GET', '/users/:userId', ({ params }) => {
    const user = users.get(params.userId!);
    return user ? ok(user) : fail(404, 10013, 'Unknown User');
  });
  route('GET', '/applications/@me', () =>
    ok({
      id: applicationId,
      name: botUser.username,
      icon: null,
      description: '',
      bot_public: false,
      bot_require_code_grant: false,
      verify_key: '0'.repeat(64),
      flags: 0,
      team: null,
      owner: owner,
      bot: botUser,
      summary: '',
    }),
  );

  function commandRoutes(base: string, listFor: (params: Record<string, string>) => APIApplicationCommand[] | RouteResult) {
    const toCommand = (params: Record<string, string>, input: Record<string, unknown>, existing: APIApplicationCommand[]) => {
      const previous = existing.find((c) => c.name === input.name);
      // Discord keeps a command's id when a bulk overwrite re-sends the same name.
      return {
        type: ApplicationCommandType.ChatInput,
        description: '',
        default_member_permissions: null,
        nsfw: false,
        integration_types: [ApplicationIntegrationType.GuildInstall],
        contexts: null,
        ...input,
        id: previous?.id ?? snowflake(),
        application_id: applicationId,
        version: snowflake(),
        ...(params.guildId ? { guild_id: params.guildId } : {}),
      } as APIApplicationCommand;
    };
    const checkApp = (params: Record<string, string>) => (params.appId === applicationId ? null : fail(404, 10002, 'Unknown Application'));
    route('GET', base, ({ params }) => {
      const list = listFor(params);
      return checkApp(params) ?? (isResult(list) ? list : ok(list));
    });
    route('PUT', base, ({ params, body }) => {
      const list = listFor(params);
      if (isResult(list)) return list;
      const error = checkApp(params);
      if (error) return error;
      if (!Array.isArray(body)) return invalid({ code: 50035, message: 'Invalid Form Body' });
      const next = (body as Record<string, unknown>[]).map((input) => toCommand(params, input, list));
      list.splice(0, list.length, ...next);
      return ok(list);
    });
    route('POST', base, ({ params, body }) => {
      const list = listFor(params);
      if (isResult(list)) return list;
      const error = checkApp(params);
      if (error) return error;
      const command = toCommand(params, body as Record<string, unknown>, list);
      const index = list.findIndex((c) => c.id === command.id);
      if (index >= 0) list[index] = command;
      else list.push(command);
      return ok(command, index >= 0 ? 200 : 201);
    });
  }
  commandRoutes('/applications/:appId/commands', () => globalCommands);
  commandRoutes('/applications/:appId/guilds/:guildId/commands', ({ guildId: id }) => {
    if (id !== guildId) return fail(404, 10004, 'Unknown Guild');
    if (!guildCommands.has(id)) guildCommands.set(id, []);
    return guildCommands.get(id)!;
  });

  const restGuild = () => {
    const {
      channels: _c,
      members: _m,
      voice_states: _v,
      presences: _p,
      threads: _t,
      joined_at: _j,
      large: _l,
      member_count: _mc,
      ...rest
    } = guildCreatePayload();
    return rest;
  };
  route('GET', '/guilds/:guildId', ({ params }) => (params.guildId === guildId ? ok(restGuild()) : fail(404, 10004, 'Unknown Guild')));
  route('GET', '/guilds/:guildId/roles', ({ params }) => (params.guildId === guildId ? ok(roles) : fail(404, 10004, 'Unknown Guild')));
  route('GET', '/guilds/:guildId/channels', ({ params }) => (params.guildId === guildId ? ok([...channels.values()]) : fail(404, 10004, 'Unknown Guild')));
  route('GET', '/guilds/:guildId/members/:userId', ({ params }) => {
    if (params.guildId !== guildId) return fail(404, 10004, 'Unknown Guild');
    const member = members.get(params.userId!);
    return member ? ok(member) : fail(404, 10007, 'Unknown Member');
  });

  route('GET', '/channels/:channelId', ({ params }) => {
    const channel = requireChannel(params.channelId!);
    return isResult(channel) ? channel : ok(channel);
  });
  route('POST', '/channels/:channelId/typing', ({ params }) => {
    const channel = requireChannel(params.channelId!);
    return isResult(channel) ? channel : noContent();
  });
  route('POST', '/channels/:channelId/messages', ({ params, body, request }) => {
    const channel = requireChannel(params.channelId!);
    if (isResult(channel)) return channel;
    const messageBody = (body ?? {}) as MessageBody;
    const error = validateMessageBody(messageBody, { creating: true, fileCount: request.files.length });
    if (error) return invalid(error);
    const reference = messageBody.message_reference;
    if (reference?.message_id && !messages.has(reference.message_id) && reference.fail_if_not_exists !== false) {
      return invalid({
        code: 50035,
        message: 'Invalid Form Body',
        errors: { message_reference: { _errors: [{ code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' }] } },
      });
    }
    return ok(createMessage(channel.id, messageBody, request.files));
  });
  route('GET', '/channels/:channelId/messages/:messageId', ({ params }) => {
    const message = messages.get(params.messageId!);
    return message && message.channel_id === params.channelId ? ok(message) : fail(404, 10008, 'Unknown Message');
  });
  route('PATCH', '/channels/:channelId/messages/:messageId', ({ params, body, request }) => {
    const message = messages.get(params.messageId!);
    if (!message || message.channel_id !== params.channelId) return fail(404, 10008, 'Unknown Message');
    if (message.author.id !== botUser.id) return fail(403, 50005, 'Cannot edit a message authored by another user');
    const error = validateMessageBody((body ?? {}) as MessageBody, { creating: false, fileCount: request.files.length });
    return error ? invalid(error) : ok(editMessage(message, (body ?? {}) as MessageBody, request.files));
  });
  route('DELETE', '/channels/:channelId/messages/:messageId', ({ params }) => {
    const message = messages.get(params.messageId!);
    if (!message || message.channel_id !== params.channelId) return fail(404, 10008, 'Unknown Message');
    messages.delete(message.id);
    return noContent();
  });
  route('PUT', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', ({ params }) =>
    messages.has(params.messageId!) ? noContent() : fail(404, 10008, 'Unknown Message'),
  );

  route(
    'POST',
    '/interactions/:interactionId/:token/callback',
    ({ params, body, request }) => {
      const state = interactions.get(params.token!);
      if (!state || state.payload.id !== params.interactionId) return fail(404, 10062, 'Unknown interaction');
      if (state.acknowledged) return fail(400, 40060, 'Interaction has already been acknowledged.');
      if (ackDeadlineMs !== null && Date.now() - state.dispatchedAt > ackDeadlineMs) return fail(404, 10062, 'Unknown interaction');
      const { type, data = {} } = (body ?? {}) as { type: number; data?: MessageBody };
      const channelId = state.payload.channel?.id ?? '';
      const componentMessage = state.payload.type === InteractionType.MessageComponent ? state.payload.message : undefined;
      const ephemeral = (data.flags ?? 0) & MessageFlags.Ephemeral;
      let message: APIMessage | undefined;
      switch (type) {
        case InteractionResponseType.ChannelMessageWithSource: {
          const error = validateMessageBody(data, { creating: true, fileCount: request.files.length });
          if (error) return invalid(error);
          message = createMessage(channelId, data, request.files, { webhook_id: applicationId, application_id: applicationId });
          break;
        }
        case InteractionResponseType.DeferredChannelMessageWithSource:
          message = createMessage(channelId, {}, [], {
            flags: MessageFlags.Loading | ephemeral,
            webhook_id: applicationId,
            application_id: applicationId,
          });
          break;
        case InteractionResponseType.DeferredMessageUpdate:
        case InteractionResponseType.UpdateMessage: {
          // Only component interactions have a message to update.
          if (!componentMessage) return fail(400, 50035, 'Invalid Form Body');
          message = messages.get(componentMessage.id) ?? componentMessage;
          if (type === InteractionResponseType.UpdateMessage) {
            const error = validateMessageBody(data, { creating: false, fileCount: request.files.length });
            if (error) return invalid(error);
            message = editMessage(message, data, request.files);
          }
          break;
        }
        default:
          break; // modals, autocomplete results, pongs: recorded, nothing to materialise
      }
      state.acknowledged = true;
      state.originalMessageId = message?.id ?? null;
      if (request.query.with_response !== 'true') return noContent();
      return ok({
        interaction: {
          id: state.payload.id,
          type: state.payload.type,
          response_message_id: message?.id,
          response_message_loading: type === InteractionResponseType.DeferredChannelMessageWithSource,
          response_message_ephemeral: Boolean(message && (message.flags ?? 0) & MessageFlags.Ephemeral),
        },
        resource: { type, ...(message ? { message } : {}) },
      });
    },
    false,
  );

  const webhookMessage = (state: InteractionState, messageId: string): APIMessage | RouteResult => {
    const id = messageId === '@original' ? state.originalMessageId : messageId;
    const message = id ? messages.get(id) : undefined;
    return message ?? fail(404, 10008, 'Unknown Message');
  };
  route(
    'POST',
    '/webhooks/:appId/:token',
    ({ params, body, request }) => {
      const state = interactionByToken(params.appId!, params.token!);
      if (isResult(state)) return state;
      const data = (body ?? {}) as MessageBody;
      const error = validateMessageBody(data, { creating: true, fileCount: request.files.length });
      if (error) return invalid(error);
      return ok(createMessage(state.payload.channel?.id ?? '', data, request.files, { webhook_id: applicationId, application_id: applicationId }));
    },
    false,
  );
  route(
    'GET',
    '/webhooks/:appId/:token/messages/:messageId',
    ({ params }) => {
      const state = interactionByToken(params.appId!, params.token!);
      if (isResult(state)) return state;
      const message = webhookMessage(state, params.messageId!);
      return isResult(message) ? message : ok(message);
    },
    false,
  );
  route(
    'PATCH',
    '/webhooks/:appId/:token/messages/:messageId',
    ({ params, body, request }) => {
      const state = interactionByToken(params.appId!, params.token!);
      if (isResult(state)) return state;
      const message = webhookMessage(state, params.messageId!);
      if (isResult(message)) return message;
      const data = (body ?? {}) as MessageBody;
      const error = validateMessageBody(data, { creating: false, fileCount: request.files.length });
      return error ? invalid(error) : ok(editMessage(message, data, request.files));
    },
    false,
  );
  route(
    'DELETE',
    '/webhooks/:appId/:token/messages/:messageId',
    ({ params }) => {
      const state = interactionByToken(params.appId!, params.token!);
      if (isResult(state)) return state;
      const message = webhookMessage(state, params.messageId!);
      if (isResult(message)) return message;
      messages.delete(message.id);
      return noContent();
    },
    false,
  );

  function handleRoute(request: RecordedRequest, prefixed: boolean): RouteResult {
    if (prefixed) {
      for (const candidate of routes) {
        const match = candidate.method === request.method ? candidate.pattern.exec(request.path) : null;
        if (!match) continue;
        if (candidate.botAuth) {
          const expected = options.token === undefined ? null : `Bot ${options.token}`;
          if (!request.authorization?.startsWith('Bot ') || (expected !== null && request.authorization !== expected)) {
            return fail(401, 0, '401: Unauthorized');
          }
        }
        const params = Object.fromEntries(candidate.keys.map((key, i) => [key, match[i + 1]!]));
        return candidate.handle({ params, body: request.body, request });
      }
    }
    return fail(404, 0, 'Unknown route (fake)');
  }

  async function onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', apiOrigin);
    const contentType = req.headers['content-type'] ?? null;
    const prefixed = url.pathname.startsWith('/api/v10/');
    let parsed: { body: unknown; files: RecordedFile[] };
    try {
      parsed = await parseBody(await readBody(req), contentType);
    } catch (error) {
      parsed = { body: `<unparseable body: ${String(error)}>`, files: [] };
    }
    const request = hideSecret(
      {
        method: req.method ?? 'GET',
        // Decoded so predicates can say "@original" (discord.js sends "%40original").
        path: decodePath(prefixed ? url.pathname.slice('/api/v10'.length) : url.pathname),
        query: Object.fromEntries(url.searchParams),
        body: parsed.body,
        files: parsed.files,
        contentType,
      } as RecordedRequest,
      'authorization',
      req.headers.authorization ?? null,
    );
    requests.push(request);
    let result: RouteResult;
    try {
      result = handleRoute(request, prefixed);
    } catch (error) {
      result = fail(500, 0, `Fake Discord handler crashed: ${error instanceof Error ? error.stack : String(error)}`);
    }
    request.status = result.status;
    request.response = result.body;
    res.statusCode = result.status;
    if (result.body === undefined) res.end();
    else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(result.body));
    }
    notify(requestWaiters, request);
  }

  // ------------------------------------------------------------------ builders

  function actorOf(input: InteractionActor): { member: APIInteractionGuildMember; channel: APITextChannel } {
    const user = upsertUser(input.user);
    const member = upsertMember(user, input.roles);
    const channel = channels.get(input.channelId ?? guild.textChannelId);
    if (!channel) throw new Error(`Fake Discord: unknown channel ${input.channelId}`);
    const permissions = input.permissions ?? permissionsOf(user.id);
    return { member: { ...member, user, permissions: String(permissions) }, channel };
  }

  function interactionBase(input: InteractionActor) {
    const { member, channel } = actorOf(input);
    return {
      id: snowflake(),
      application_id: applicationId,
      token: `fake-token-${randomBytes(24).toString('base64url')}`,
      version: 1 as const,
      guild_id: guildId,
      guild: { id: guildId, locale: DEFAULT_LOCALE, features: [] },
      channel_id: channel.id,
      channel,
      member,
      app_permissions: String(permissionsOf(botUser.id)),
      locale: DEFAULT_LOCALE,
      guild_locale: DEFAULT_LOCALE,
      entitlements: [],
      authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guildId },
      context: InteractionContextType.Guild,
      attachment_size_limit: 10 * 1024 * 1024,
    };
  }

  const syntheticCommandIds = new Map<string, string>();

  function slashCommand(input: SlashCommandInput): APIChatInputApplicationCommandGuildInteraction {
    const registered = [...(guildCommands.get(guildId) ?? []), ...globalCommands].find((c) => c.name === input.name);
    const commandId = registered?.id ?? syntheticCommandIds.get(input.name) ?? snowflake();
    syntheticCommandIds.set(input.name, commandId);
    const declared = registered?.options ?? [];
    const options = Array.isArray(input.options)
      ? input.options
      : Object.entries(input.options ?? {}).map(([name, value]): APIApplicationCommandInteractionDataOption => {
          const type = declared.find((o) => o.name === name)?.type;
          if (typeof value === 'string') return { name, type: ApplicationCommandOptionType.String, value };
          if (typeof value === 'boolean') return { name, type: ApplicationCommandOptionType.Boolean, value };
          const numberType =
            type === ApplicationCommandOptionType.Number || (type === undefined && !Number.isInteger(value))
              ? ApplicationCommandOptionType.Number
              : ApplicationCommandOptionType.Integer;
          return { name, type: numberType, value };
        });
    return {
      ...interactionBase(input),
      type: InteractionType.ApplicationCommand,
      data: {
        id: commandId,
        name: input.name,
        type: ApplicationCommandType.ChatInput,
        guild_id: registered?.guild_id,
        options,
      },
    };
  }

  function buttonPress(input: ButtonPressInput): APIMessageComponentGuildInteraction {
    const base = interactionBase(input);
    let message: APIMessage | undefined;
    if (typeof input.message === 'string') {
      message = messages.get(input.message);
      if (!message) throw new Error(`Fake Discord: buttonPress on unknown message ${input.message}`);
    } else {
      message =
        input.message ??
        makeMessage({
          channel_id: base.channel_id,
          author: botUser,
          content: 'Button host message',
          components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: 1, custom_id: input.customId, label: 'Press' }] }],
        });
      messages.set(message.id, message);
    }
    return {
      ...base,
      channel_id: message.channel_id,
      type: InteractionType.MessageComponent,
      message,
      data: { custom_id: input.customId, component_type: ComponentType.Button },
    };
  }

  function messageCreate(input: MessageCreateInput): GatewayMessageCreateDispatchData {
    const author = upsertUser(input.author);
    const member = upsertMember(author, input.roles);
    const channelId = input.channelId ?? guild.textChannelId;
    const mentionedIds = new Set([...input.content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!));
    for (const mention of input.mentions ?? []) mentionedIds.add(typeof mention === 'string' ? mention : upsertUser(mention).id);
    const mentions = [...mentionedIds].flatMap((id) => {
      const user = users.get(id);
      const mentionedMember = members.get(id);
      return user ? [{ ...user, ...(mentionedMember ? { member: memberNoUser(mentionedMember) } : {}) }] : [];
    });
    const referenced = input.replyTo ? messages.get(input.replyTo) : undefined;
    if (input.replyTo && !referenced) throw new Error(`Fake Discord: replyTo unknown message ${input.replyTo}`);
    const base = makeMessage({ channel_id: channelId, author, content: input.content });
    return {
      ...base,
      ...(referenced
        ? {
            type: MessageType.Reply,
            message_reference: { type: 0, message_id: referenced.id, channel_id: referenced.channel_id, guild_id: guildId },
            referenced_message: referenced,
          }
        : {}),
      guild_id: guildId,
      member: memberNoUser(member),
      mentions,
      nonce: snowflake(),
    };
  }

  function dispatchInteraction(payload: APIInteraction): void {
    interactions.set(payload.token, { payload, dispatchedAt: Date.now(), acknowledged: false, originalMessageId: null });
    if (payload.type === InteractionType.MessageComponent && !messages.has(payload.message.id)) messages.set(payload.message.id, payload.message);
    dispatch(GatewayDispatchEvents.InteractionCreate, payload);
  }

  function dispatchMessage(payload: GatewayMessageCreateDispatchData): void {
    const intents = liveSession?.intents ?? 0;
    const inGuild = payload.guild_id !== undefined;
    const needed = inGuild ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages;
    if (!(intents & needed)) {
      throw new Error(`Fake Discord: Discord would not deliver this MESSAGE_CREATE, the client lacks intent ${GatewayIntentBits[needed]}`);
    }
    messages.set(payload.id, payload as APIMessage);
    const mentionsBot = payload.mentions.some((u) => u.id === botUser.id);
    const readable = intents & GatewayIntentBits.MessageContent || !inGuild || mentionsBot || payload.author.id === botUser.id;
    dispatch(
      GatewayDispatchEvents.MessageCreate,
      readable ? payload : { ...payload, content: '', embeds: [], attachments: [], components: [], poll: undefined },
    );
  }

  // -------------------------------------------------------------------- start

  const server: Server = createServer((req, res) => void onHttp(req, res));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    const query = new URL(req.url ?? '/', apiOrigin).searchParams;
    const connection: GatewayConnection = {
      socket,
      send: makeSender(socket, query.get('compress') === 'zlib-stream'),
      session: null,
    };
    connections.add(connection);
    if ((query.get('encoding') ?? 'json') !== 'json') {
      socket.close(4002, 'The fake gateway only speaks encoding=json.');
      return;
    }
    socket.on('message', (data, isBinary) => onGatewayMessage(connection, isBinary ? '' : data.toString()));
    socket.on('close', (code) => {
      connections.delete(connection);
      const session = connection.session;
      if (session?.connection !== connection) return;
      session.connection = null;
      // A 1000/1001 close from the client ends the session on Discord (client.destroy() does this);
      // anything else leaves it resumable.
      if (code === 1000 || code === 1001) {
        sessions.delete(session.id);
        if (liveSession === session) liveSession = null;
      }
    });
    socket.on('error', () => socket.terminate());
    connection.send({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: heartbeatIntervalMs }, s: null, t: null });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const apiOrigin = `http://127.0.0.1:${port}`;
  const gatewayUrl = `ws://127.0.0.1:${port}`;

  const describeRequests = () => requests.map((r) => `  ${r.method} ${r.path} -> ${r.status ?? 'pending'}`).join('\n') || '  (none)';
  const describeGateway = () => gatewayPayloads.map((p) => `  op ${p.op}`).join('\n') || '  (none)';

  return {
    apiUrl: `${apiOrigin}/api`,
    gatewayUrl,
    botUser,
    applicationId,
    guild,
    defaultUser,
    requests,
    gatewayPayloads,
    identifies,
    messages,
    globalCommands,
    guildCommands: (id = guildId) => guildCommands.get(id) ?? [],
    waitForRequest: (predicate, timeoutMs = 5_000) =>
      waitFor(
        requests.filter((r) => r.status !== undefined),
        requestWaiters,
        predicate,
        timeoutMs,
        describeRequests,
      ),
    waitForGatewayPayload: (predicate, timeoutMs = 5_000) => waitFor(gatewayPayloads, gatewayWaiters, predicate, timeoutMs, describeGateway),
    dispatch,
    dispatchInteraction,
    dispatchMessage,
    slashCommand,
    buttonPress,
    messageCreate,
    disconnectGateway(code = 4000) {
      liveSession?.connection?.socket.close(code, 'Fake Discord forced a reconnect');
    },
    async close() {
      const closed = new Error('Fake Discord was closed');
      for (const waiter of [...requestWaiters, ...gatewayWaiters]) waiter.reject(closed);
      for (const { socket } of connections) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
