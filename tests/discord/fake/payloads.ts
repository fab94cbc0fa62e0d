// Realistic Discord API v10 objects for the fake gateway/REST server in fakeDiscord.ts.
// Typed against discord-api-types (re-exported by discord.js) so the compiler flags any
// field real Discord always sends and we forgot.
import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  type MessageFlags,
  MessageType,
  PermissionFlagsBits,
  PermissionsBitField,
  type APIEmbed,
  type APIGuild,
  type APIGuildMember,
  type ChannelFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type APIMessage,
  type APIRole,
  type APITextChannel,
  type APIUser,
} from 'discord.js';

const DISCORD_EPOCH = 1_420_070_400_000n;
let lastSnowflake = 0n;

/** Time-ordered, process-unique snowflake (as real ones are, so sorting by id works). */
export function snowflake(): string {
  const fromClock = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
  lastSnowflake = fromClock > lastSnowflake ? fromClock : lastSnowflake + 1n;
  return lastSnowflake.toString();
}

export function makeUser(overrides: Partial<APIUser> = {}): APIUser {
  const id = overrides.id ?? snowflake();
  return {
    id,
    username: `user${id.slice(-5)}`,
    discriminator: '0',
    global_name: null,
    avatar: null,
    ...overrides,
  };
}

export function makeRole(fields: Pick<APIRole, 'id' | 'name' | 'position' | 'permissions'> & Partial<APIRole>): APIRole {
  return {
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    managed: false,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...fields,
  };
}

export function makeMember(user: APIUser, roles: string[], joinedAt = new Date().toISOString()): APIGuildMember {
  return {
    user,
    nick: null,
    avatar: null,
    banner: null,
    roles,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

export function makeTextChannel(guildId: string, id: string, name: string, position: number): APITextChannel {
  return {
    id,
    type: ChannelType.GuildText,
    guild_id: guildId,
    name,
    position,
    permission_overwrites: [],
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: null,
    last_pin_timestamp: null,
    rate_limit_per_user: 0,
    default_thread_rate_limit_per_user: 0,
    flags: 0 as ChannelFlags,
  };
}

/** Roughly what a fresh server grants @everyone. */
export const EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads;

/** The guild's permission computation, minus channel overwrites (the fake has none). */
export function basePermissions(roles: readonly APIRole[], memberRoleIds: readonly string[], guildId: string, isOwner: boolean): bigint {
  if (isOwner) return PermissionsBitField.All;
  let permissions = 0n;
  for (const role of roles) {
    if (role.id === guildId || memberRoleIds.includes(role.id)) permissions |= BigInt(role.permissions);
  }
  return permissions & PermissionFlagsBits.Administrator ? PermissionsBitField.All : permissions;
}

export function makeMessage(fields: Pick<APIMessage, 'channel_id' | 'author'> & Partial<APIMessage>): APIMessage {
  return {
    id: snowflake(),
    type: MessageType.Default,
    content: '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    flags: 0 as MessageFlags,
    ...fields,
  };
}

export const DEFAULT_LOCALE = Locale.EnglishUS;

/** Everything a fresh guild has that the fake does not customise. */
export const guildDefaults = (): Omit<APIGuild, 'id' | 'name' | 'owner_id' | 'roles' | 'system_channel_id'> => ({
  icon: null,
  splash: null,
  discovery_splash: null,
  afk_channel_id: null,
  afk_timeout: 300,
  verification_level: GuildVerificationLevel.None,
  default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
  explicit_content_filter: GuildExplicitContentFilter.Disabled,
  emojis: [],
  features: [],
  mfa_level: GuildMFALevel.None,
  application_id: null,
  system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotifications,
  rules_channel_id: null,
  vanity_url_code: null,
  description: null,
  banner: null,
  premium_tier: GuildPremiumTier.None,
  premium_subscription_count: 0,
  preferred_locale: DEFAULT_LOCALE,
  public_updates_channel_id: null,
  nsfw_level: GuildNSFWLevel.Default,
  stickers: [],
  premium_progress_bar_enabled: false,
  hub_type: null,
  safety_alerts_channel_id: null,
  incidents_data: null,
  max_members: 500_000,
  max_video_channel_users: 25,
});

// ---------------------------------------------------------------------------
// Outgoing message validation: Discord rejects these with 400s, and a bot that
// quotes long articles verbatim is exactly the kind that trips over them.

export interface DiscordErrorBody {
  code: number;
  message: string;
  errors?: Record<string, unknown>;
}

interface FieldError {
  path: string;
  code: string;
  message: string;
}

function maxLength(errors: FieldError[], path: string, value: unknown, max: number): number {
  if (typeof value !== 'string') return 0;
  if (value.length > max) errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` });
  return value.length;
}

function validateEmbeds(errors: FieldError[], embeds: APIEmbed[]): void {
  if (embeds.length > 10) errors.push({ path: 'embeds', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 10 or fewer in length.' });
  let total = 0;
  embeds.forEach((embed, i) => {
    const at = `embeds.${i}`;
    total += maxLength(errors, `${at}.title`, embed.title, 256);
    total += maxLength(errors, `${at}.description`, embed.description, 4096);
    total += maxLength(errors, `${at}.footer.text`, embed.footer?.text, 2048);
    total += maxLength(errors, `${at}.author.name`, embed.author?.name, 256);
    const fields = embed.fields ?? [];
    if (fields.length > 25) errors.push({ path: `${at}.fields`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
    fields.forEach((field, j) => {
      for (const key of ['name', 'value'] as const) {
        if (!field[key]) errors.push({ path: `${at}.fields.${j}.${key}`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      }
      total += maxLength(errors, `${at}.fields.${j}.name`, field.name, 256);
      total += maxLength(errors, `${at}.fields.${j}.value`, field.value, 1024);
    });
  });
  if (total > 6000) errors.push({ path: 'embeds', code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' });
}

interface LooseComponent {
  type?: number;
  style?: number;
  custom_id?: string;
  label?: string;
  url?: string;
  components?: LooseComponent[];
}

function validateComponents(errors: FieldError[], rows: LooseComponent[], customIds: Set<string>, at = 'components'): void {
  rows.forEach((component, i) => {
    const path = `${at}.${i}`;
    if (component.custom_id !== undefined) {
      maxLength(errors, `${path}.custom_id`, component.custom_id, 100);
      if (customIds.has(component.custom_id)) {
        errors.push({ path: `${path}.custom_id`, code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' });
      }
      customIds.add(component.custom_id);
    }
    if (component.type === 2) {
      maxLength(errors, `${path}.label`, component.label, 80);
      const isLink = component.style === 5;
      if (isLink && !component.url) errors.push({ path: `${path}.url`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      if (!isLink && component.style !== 6 && component.custom_id === undefined) {
        errors.push({ path: `${path}.custom_id`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      }
    }
    if (component.type === 1 && (component.components?.length ?? 0) > 5) {
      errors.push({ path: `${path}.components`, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' });
    }
    if (component.components) validateComponents(errors, component.components, customIds, `${path}.components`);
  });
}

/** Nest "embeds.0.title" style paths the way Discord's Invalid Form Body errors do. */
function toErrorTree(errors: FieldError[]): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  for (const { path, code, message } of errors) {
    let node = tree;
    for (const key of path.split('.')) node = (node[key] ??= {}) as Record<string, unknown>;
    ((node._errors ??= []) as unknown[]).push({ code, message });
  }
  return tree;
}

export interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: LooseComponent[];
  attachments?: unknown[];
  sticker_ids?: string[];
  poll?: unknown;
  flags?: number;
  message_reference?: { message_id?: string; channel_id?: string; guild_id?: string; fail_if_not_exists?: boolean };
  allowed_mentions?: unknown;
  tts?: boolean;
}

/** Returns Discord's error body for an invalid message payload, or null when it would be accepted. */
export function validateMessageBody(body: MessageBody, { creating, fileCount }: { creating: boolean; fileCount: number }): DiscordErrorBody | null {
  const errors: FieldError[] = [];
  maxLength(errors, 'content', body.content, 2000);
  validateEmbeds(errors, body.embeds ?? []);
  const componentsV2 = ((body.flags ?? 0) & (1 << 15)) !== 0;
  if (!componentsV2 && (body.components?.length ?? 0) > 5) {
    errors.push({ path: 'components', code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 0 and 5 in length.' });
  }
  validateComponents(errors, body.components ?? [], new Set());
  if (errors.length > 0) return { code: 50035, message: 'Invalid Form Body', errors: toErrorTree(errors) };
  const empty = !body.content && !body.embeds?.length && !body.components?.length && !body.sticker_ids?.length && !body.poll && fileCount === 0;
  if (creating && empty) return { code: 50006, message: 'Cannot send an empty message' };
  return null;
}
