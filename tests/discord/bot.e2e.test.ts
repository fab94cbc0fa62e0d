// End to end: the REAL discord.js client, the REAL engine (local MiniLM model, Vectra index in a
// temp folder) and the wire-level fake Discord. Assertions are on the exact payloads the bot sent.
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ButtonStyle, ComponentType, Events, GatewayIntentBits, MessageFlags, type APIEmbed, type Client } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { openDocent, type Docent } from '../../src/docent.ts';
import { engineEventText } from '../../src/wording/engine.ts';
import { attachDocent, createClient, INTENTS } from '../../src/discord/bot.ts';
import { botConfigSchema, type BotConfig } from '../../src/discord/config.ts';
import { createBotContext, type BotContext } from '../../src/discord/context.ts';
import { hashUserId } from '../../src/discord/feedback.ts';
import { registerCommands } from '../../src/discord/registerCommands.ts';
import { createLogger } from '../../src/discord/startup.ts';
import { defaultModelCacheDir } from '../../src/embeddings/minilm/modelFolder.ts';
import { pdfFixture } from '../fixtures/documents.ts';
import { snowflake, startFakeDiscord, type FakeDiscord, type RecordedRequest } from './fake/fakeDiscord.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WIKI_ARTICLES = path.resolve(REPO_ROOT, '..', 'shared', 'eval', 'squadshifts-new-wiki', 'articles');
const SEED_FILES = ['reviving-diplomatic-ties-istanbul-talks.md', 'us-russia-istanbul-talks-april-2025.md'];
/** Added before /reindex; big enough that the re-index takes a few seconds. */
const NEW_ARTICLES = ['002_Andes.md', '011_Insurance_in_the_United_States.md'];
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789';
const KILLENWORTH = 'Russia has consistently called for the return of six properties, including the Killenworth estate in New York';
const US_RUSSIA_TITLE = 'U.S. and Russia Hold Talks in Istanbul on Restoring Diplomatic Missions';
const ANSWER_MS = 20_000;

let work: string;
let originalCwd: string;
let fake: FakeDiscord;
let client: Client;
let engine: Docent;
let config: BotConfig;
let context: BotContext;
const logLines: string[] = [];
const reindexCalls: unknown[] = [];
let failNextAsk = false;

const logs = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'docent-discord-'));
  await mkdir(path.join(work, 'sources'));
  for (const file of SEED_FILES) await cp(path.join(REPO_ROOT, 'sources', file), path.join(work, 'sources', file));
  // Source paths are shown relative to the working directory, as when the bot runs from its folder.
  originalCwd = process.cwd();
  process.chdir(work);

  fake = await startFakeDiscord({ token: TOKEN });
  config = parseConfig(botConfigSchema, {
    DISCORD_TOKEN: TOKEN,
    DISCORD_CLIENT_ID: fake.applicationId,
    DISCORD_API_URL: fake.apiUrl,
    ADMIN_ROLE_IDS: fake.guild.adminRoleId,
    SOURCES_DIR: path.join(work, 'sources'),
    INDEX_DIR: path.join(work, 'index'),
    MODEL_CACHE_DIR: defaultModelCacheDir(),
    FEEDBACK_LOG: path.join(work, 'data', 'feedback.jsonl'),
    GAPS_LOG: path.join(work, 'data', 'gaps.jsonl'),
    AUDIT_LOG: path.join(work, 'data', 'audit.jsonl'),
    // Pages for /sources add are served on 127.0.0.1 by this test; nothing else is ever allowed.
    ALLOW_LOOPBACK_URLS: 'true',
    REINDEX_PROGRESS_MS: '200',
    LOG_LEVEL: 'debug',
  });

  // As src/discord/main.ts builds it, with the log captured in memory.
  const logger = createLogger(config.LOG_LEVEL, { write: (line: string) => void logLines.push(line) });
  engine = await openDocent(config, { onEvent: (event) => logger.info(engineEventText(event)) });
  const docent: Docent = {
    ...engine,
    ask: (question, options) => {
      if (failNextAsk) {
        failNextAsk = false;
        return Promise.reject(new Error('injected failure for the error-path test'));
      }
      return engine.ask(question, options);
    },
    reindex: (options) => {
      reindexCalls.push(options);
      return engine.reindex(options);
    },
  };
  context = createBotContext(docent, config, logger);

  client = attachDocent(createClient(config.DISCORD_API_URL), context);
  const ready = once(client, Events.ClientReady);
  await client.login(config.DISCORD_TOKEN);
  await ready;
});

afterAll(async () => {
  await client?.destroy();
  await fake?.close();
  await engine?.close();
  if (originalCwd) process.chdir(originalCwd);
  if (work) await rm(work, { recursive: true, force: true });
});

// ------------------------------------------------------------------ helpers

const indexOf = (request: RecordedRequest) => fake.requests.indexOf(request);

function callbackOf(interaction: { id: string; token: string }): Promise<RecordedRequest> {
  return fake.waitForRequest((r) => r.method === 'POST' && r.path === `/interactions/${interaction.id}/${interaction.token}/callback`, ANSWER_MS);
}

function originalEditOf(interaction: { token: string }, accept: (body: MessageBody) => boolean = () => true): Promise<RecordedRequest> {
  return fake.waitForRequest(
    (r) =>
      r.method === 'PATCH' && r.path === `/webhooks/${fake.applicationId}/${interaction.token}/messages/@original` && accept((r.body ?? {}) as MessageBody),
    ANSWER_MS,
  );
}

function followUpOf(interaction: { token: string }): Promise<RecordedRequest> {
  return fake.waitForRequest((r) => r.method === 'POST' && r.path === `/webhooks/${fake.applicationId}/${interaction.token}`, ANSWER_MS);
}

interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: Array<{ type: number; components: Array<{ type: number; custom_id?: string; label?: string; style?: number; disabled?: boolean }> }>;
  allowed_mentions?: { parse?: string[]; replied_user?: boolean };
  flags?: number;
  message_reference?: { message_id?: string };
}

interface CallbackBody {
  type: number;
  data?: MessageBody;
}

const bodyOf = (request: RecordedRequest) => (request.body ?? {}) as MessageBody;
const callbackBody = (request: RecordedRequest) => request.body as CallbackBody;

let users = 0;
/**
 * A fresh member for each scenario, so the per-user rate limit never carries over between tests.
 * The id is explicit: the fake gives a user without one a new id on every interaction.
 */
const newUser = (label: string) => ({ username: `${label}${++users}`, id: snowflake() });

async function ask(question: string, options: { private?: boolean; user?: { username: string } } = {}) {
  const payload = fake.slashCommand({
    name: 'ask',
    options: { question, ...(options.private === undefined ? {} : { private: options.private }) },
    user: options.user ?? newUser('asker'),
  });
  fake.dispatchInteraction(payload);
  return payload;
}

/** Undoes render.ts's escaping: zero-width spaces after @ and <, backslashes before markdown. */
const unescaped = (text: string) => text.replace(/\u200b/g, '').replace(/\\(.)/g, '$1');

interface RenderedQuote {
  n: number;
  text: string;
  title: string;
  path: string;
  line: number;
}

/** Reads the `> quote **[n]**` blocks and the matching `**[n]** Title — \`path\`, line N` source lines. */
function quotesOf(embed: APIEmbed): RenderedQuote[] {
  const sources = new Map(
    (embed.fields?.find((field) => field.name === 'Sources')?.value ?? '').split('\n').map((line) => {
      const match = /^\*\*\[(\d+)\]\*\* (.+) — `([^`]+)`, line (\d+)$/.exec(line);
      if (!match) throw new Error(`unexpected source line: ${JSON.stringify(line)}`);
      return [Number(match[1]), { title: unescaped(match[2]!), path: match[3]!.replace(/\u200b/g, ''), line: Number(match[4]) }] as const;
    }),
  );
  return (embed.description ?? '').split('\n\n').map((block) => {
    const match = /^> (.+) \*\*\[(\d+)\]\*\*$/.exec(block);
    if (!match) throw new Error(`unexpected quote block: ${JSON.stringify(block)}`);
    const n = Number(match[2]);
    const source = sources.get(n);
    if (!source) throw new Error(`quote [${n}] has no source line`);
    return { n, text: unescaped(match[1]!), ...source };
  });
}

/** Each quote, less the ellipses of trimming, is a verbatim slice of its file, starting on the cited line. */
function expectVerbatim(quotes: readonly RenderedQuote[]): void {
  expect(quotes.length).toBeGreaterThan(0);
  for (const quote of quotes) {
    const file = readFileSync(path.resolve(work, quote.path), 'utf8').normalize('NFC');
    const bare = quote.text.replace(/^…/, '').replace(/…$/, '');
    const at = file.indexOf(bare);
    expect(at, `[${quote.n}] ${bare} is verbatim in ${quote.path}`).toBeGreaterThanOrEqual(0);
    expect(file.slice(0, at).split('\n').length, `line of [${quote.n}]`).toBe(quote.line);
  }
}

const answerButtonsOf = (body: MessageBody) => body.components?.[0]?.components ?? [];

// -------------------------------------------------------------------- tests

describe('Docent on (fake) Discord', () => {
  it('identifies with exactly the Guilds and GuildMessages intents', () => {
    expect(fake.identifies).toHaveLength(1);
    expect(fake.identifies[0]!.intents).toBe(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages);
    expect([...INTENTS]).toEqual([GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    expect(client.user?.id).toBe(fake.botUser.id);
  });

  it('registers /ask, /sources, /reindex, /gaps and "Ask Docent", with /reindex and /gaps limited to Manage Server', async () => {
    const count = await registerCommands({ ...config, DISCORD_GUILD_ID: fake.guild.id, DISCORD_API_URL: fake.apiUrl });
    expect(count).toBe(5);
    const put = await fake.waitForRequest((r) => r.method === 'PUT' && r.path === `/applications/${fake.applicationId}/guilds/${fake.guild.id}/commands`);
    expect(put.status).toBe(200);
    const body = put.body as Array<Record<string, unknown>>;
    expect(body.map((command) => command.name)).toEqual(['ask', 'sources', 'reindex', 'gaps', 'Ask Docent']);
    expect(body[0]).toMatchObject({
      name: 'ask',
      options: [
        { name: 'question', type: 3, required: true, max_length: config.MAX_QUESTION_CHARS },
        { name: 'private', type: 5, required: false },
      ],
    });
    expect(body[0]!.default_member_permissions).toBeUndefined();
    expect(body[2]).toMatchObject({ name: 'reindex', default_member_permissions: '32', contexts: [0] });
    expect(body[3]).toMatchObject({ name: 'gaps', default_member_permissions: '32', contexts: [0] });
    expect(body[4]).toMatchObject({ name: 'Ask Docent', type: 3, contexts: [0] });
    expect((body[1]!.options as { name: string; type: number }[]).map((option) => `${option.name}:${option.type}`)).toEqual(['list:1', 'add:1', 'remove:1']);
    expect(fake.guildCommands().map((command) => command.name)).toEqual(['ask', 'sources', 'reindex', 'gaps', 'Ask Docent']);
  });

  let answered: { payload: { id: string; token: string }; body: MessageBody; messageId: string; userId: string };

  it('answers /ask with a deferred reply, then the Killenworth quote and its citation', async () => {
    const payload = await ask('Which properties does Russia want returned?');
    const callback = await callbackOf(payload);
    expect(callback.body).toEqual({ type: 5, data: { flags: 0 } });
    const edit = await originalEditOf(payload);
    expect(indexOf(edit)).toBeGreaterThan(indexOf(callback));
    expect(edit.status).toBe(200);

    const body = bodyOf(edit);
    expect(body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(body.content).toBeUndefined();
    expect(body.embeds).toHaveLength(1);
    const [embed] = body.embeds!;
    expect(embed!.title).toBe('Which properties does Russia want returned?');
    expect(embed!.footer?.text).toMatch(/Verbatim quotes/);

    const quotes = quotesOf(embed!);
    expect(quotes.map((quote) => quote.n)).toEqual([1, 2, 3]);
    expectVerbatim(quotes);
    const killenworth = quotes.find((quote) => quote.text.includes(KILLENWORTH));
    expect(killenworth, 'the Killenworth sentence is quoted').toBeDefined();
    expect(killenworth).toMatchObject({ title: US_RUSSIA_TITLE, path: 'sources/us-russia-istanbul-talks-april-2025.md', line: 13 });
    expect(embed!.fields![0]!.value).toContain(`**[${killenworth!.n}]** ${US_RUSSIA_TITLE} — \`sources/us-russia-istanbul-talks-april-2025.md\`, line 13`);

    expect(body.components).toHaveLength(1);
    const buttons = answerButtonsOf(body);
    expect(buttons.map((button) => [button.label, button.style, button.disabled ?? false])).toEqual([
      // A precise question gets only the quotes that answer it, so there is no second page.
      ['More quotes', ButtonStyle.Secondary, true],
      ['Helpful', ButtonStyle.Success, false],
      ['Not helpful', ButtonStyle.Danger, false],
    ]);
    expect(buttons.every((button) => button.type === ComponentType.Button && button.custom_id?.startsWith('docent:'))).toBe(true);

    const message = edit.response as { id: string; flags: number };
    expect(message.flags & MessageFlags.Ephemeral).toBe(0);
    answered = { payload, body, messageId: message.id, userId: payload.member.user.id };
  });

  it('defers /ask private:true ephemerally', async () => {
    const payload = await ask('Who led the talks in Istanbul?', { private: true });
    expect(callbackBody(await callbackOf(payload))).toEqual({ type: 5, data: { flags: MessageFlags.Ephemeral } });
    const edit = await originalEditOf(payload);
    expect(bodyOf(edit).embeds).toHaveLength(1);
    expect((edit.response as { flags: number }).flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  });

  it('declines a question the sources do not cover with a short message and no embed', async () => {
    const payload = await ask('What is the capital of France?');
    expect(callbackBody(await callbackOf(payload)).type).toBe(5);
    const body = bodyOf(await originalEditOf(payload));
    expect(body.content).toBe('The sources do not cover this question.');
    expect(body.embeds ?? []).toEqual([]);
    expect(body.components ?? []).toEqual([]);
    expect(body.allowed_mentions).toMatchObject({ parse: [] });
  });

  it('refuses a 10,000-character question naming the 300-character limit, without deferring', async () => {
    const payload = await ask('Who led the talks? '.repeat(527).slice(0, 10_000));
    const callback = await callbackOf(payload);
    expect(callbackBody(callback)).toEqual({
      type: 4,
      data: expect.objectContaining({ flags: MessageFlags.Ephemeral, allowed_mentions: { parse: [] } }),
    });
    expect(callbackBody(callback).data?.content).toMatch(/at most 300 characters; yours has 10,000/);
    expect(fake.requests.filter((r) => r.path.includes(payload.token))).toEqual([callback]);
  });

  it('lists the sources with /sources, ephemerally', async () => {
    const payload = fake.slashCommand({ name: 'sources', options: [{ type: 1, name: 'list' }], user: newUser('lister') });
    fake.dispatchInteraction(payload);
    const body = callbackBody(await callbackOf(payload));
    expect(body.type).toBe(4);
    expect(body.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(body.data?.embeds?.[0]?.title).toBe('Indexed sources (2)');
    expect(body.data?.embeds?.[0]?.description).toContain(US_RUSSIA_TITLE);
  });

  it('answers a mention with a reply to the message that pings nobody', async () => {
    const message = fake.messageCreate({ content: `<@${fake.botUser.id}> Who led the talks in Istanbul?`, author: newUser('mentioner') });
    fake.dispatchMessage(message);
    const post = await fake.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${fake.guild.textChannelId}/messages` && bodyOf(r).message_reference?.message_id === message.id,
      ANSWER_MS,
    );
    expect(post.status).toBe(200);
    const body = bodyOf(post);
    expect(body.message_reference).toMatchObject({ message_id: message.id });
    expect(body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(body.embeds).toHaveLength(1);
    expect(body.embeds![0]!.title).toBe('Who led the talks in Istanbul?');
    expectVerbatim(quotesOf(body.embeds![0]!));
    expect(answerButtonsOf(body).map((button) => button.label)).toEqual(['More quotes', 'Helpful', 'Not helpful']);
  });

  it('ignores a reply ping to its own answer ("thanks!"), answering only mentions written in the text', async () => {
    const author = newUser('grateful');
    const thanks = fake.messageCreate({ content: 'thanks!', author, mentions: [fake.botUser.id] });
    fake.dispatchMessage(thanks);
    // A real mention afterwards is the barrier: once it is answered, the ping would have been too.
    const question = fake.messageCreate({ content: `<@${fake.botUser.id}> Which properties does Russia want returned?`, author });
    fake.dispatchMessage(question);
    await fake.waitForRequest((r) => r.method === 'POST' && bodyOf(r).message_reference?.message_id === question.id, ANSWER_MS);
    expect(fake.requests.filter((r) => r.method === 'POST' && bodyOf(r).message_reference?.message_id === thanks.id)).toEqual([]);
  });

  it('never lets @everyone, role mentions or markdown in a question through', async () => {
    const noMentionsOrMarkup = (request: RecordedRequest) => {
      const wire = JSON.stringify(request.body);
      expect(wire).not.toMatch(/@(everyone|here)/);
      expect(wire).not.toMatch(/<@/);
      expect(wire).not.toMatch(/(^|[^\\])\*\*(Who|now)/);
      expect(bodyOf(request).allowed_mentions).toMatchObject({ parse: [] });
    };
    // The engine declines this one (a short content reply); the reply still carries nothing live.
    const message = fake.messageCreate({ content: `<@${fake.botUser.id}> **Who** led the talks? @everyone <@&123>`, author: newUser('prankster') });
    fake.dispatchMessage(message);
    const post = await fake.waitForRequest(
      (r) => r.method === 'POST' && r.path.endsWith('/messages') && bodyOf(r).message_reference?.message_id === message.id,
      ANSWER_MS,
    );
    noMentionsOrMarkup(post);
    expect(bodyOf(post).allowed_mentions).toEqual({ parse: [], replied_user: false });

    // This one is answered, so the question is echoed as the embed title: escaped.
    const hostile = 'Which properties does Russia want returned? @everyone <@&123456789012345678> **now**';
    const slash = await ask(hostile);
    const edit = await originalEditOf(slash);
    noMentionsOrMarkup(edit);
    const title = bodyOf(edit).embeds?.[0]?.title;
    expect(title).toBeDefined();
    // Mentions are addressing, not words of the question: they are dropped before asking.
    expect(unescaped(title!)).toBe('Which properties does Russia want returned? **now**');

    const mention = fake.messageCreate({ content: `<@${fake.botUser.id}> ${hostile}`, author: newUser('prankster') });
    fake.dispatchMessage(mention);
    const reply = await fake.waitForRequest(
      (r) => r.method === 'POST' && r.path.endsWith('/messages') && bodyOf(r).message_reference?.message_id === mention.id,
      ANSWER_MS,
    );
    noMentionsOrMarkup(reply);
    expect(bodyOf(reply).embeds).toHaveLength(1);
  });

  it('pages with "More quotes": a private reply numbered from [4]', async () => {
    const asked = await ask('What was discussed at the Istanbul talks?');
    const edit = await originalEditOf(asked);
    const first = bodyOf(edit);
    const more = answerButtonsOf(first).find((button) => button.label === 'More quotes')!;
    expect(more.disabled ?? false).toBe(false);
    const payload = fake.buttonPress({ customId: more.custom_id!, message: (edit.response as { id: string }).id, user: newUser('reader') });
    fake.dispatchInteraction(payload);
    expect(callbackBody(await callbackOf(payload))).toEqual({ type: 5, data: { flags: MessageFlags.Ephemeral } });
    const body = bodyOf(await originalEditOf(payload));
    expect(body.embeds).toHaveLength(1);
    const quotes = quotesOf(body.embeds![0]!);
    expect(quotes[0]!.n).toBe(4);
    expect(quotes.map((quote) => quote.n)).toEqual(quotes.map((_, i) => 4 + i));
    expectVerbatim(quotes);
    const firstPage = quotesOf(first.embeds![0]!).map((quote) => quote.text);
    for (const quote of quotes) expect(firstPage).not.toContain(quote.text);
  });

  it('records "Helpful" in the feedback log with a hashed user id', async () => {
    const helpful = answerButtonsOf(answered.body).find((button) => button.label === 'Helpful')!;
    const voter = { username: 'voter', id: '765432109876543210' };
    const payload = fake.buttonPress({ customId: helpful.custom_id!, message: answered.messageId, user: voter });
    fake.dispatchInteraction(payload);
    const body = callbackBody(await callbackOf(payload));
    expect(body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect(body.data?.content).toMatch(/^Thanks/);

    const text = await readFile(config.FEEDBACK_LOG, 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toEqual({
      time: expect.any(String),
      question: 'Which properties does Russia want returned?',
      sources: expect.arrayContaining(['us-russia-istanbul-talks-april-2025.md']),
      verdict: 'helpful',
      user: hashUserId(voter.id, fake.applicationId),
    });
    expect((entry.sources as string[]).length).toBe(3);
    expect(text).not.toContain(voter.id);

    // Pressing again is acknowledged but not recorded twice.
    const again = fake.buttonPress({ customId: helpful.custom_id!, message: answered.messageId, user: voter });
    fake.dispatchInteraction(again);
    expect(callbackBody(await callbackOf(again)).data?.content).toMatch(/already gave feedback/);
    expect((await readFile(config.FEEDBACK_LOG, 'utf8')).trimEnd().split('\n')).toHaveLength(1);
  });

  it('answers buttons and commands it does not know instead of letting them fail', async () => {
    // A forged vote on a real answer: its id from the Helpful button (`docent:vote:up:<id>`).
    const answerId = answerButtonsOf(answered.body)
      .find((button) => button.label === 'Helpful')!
      .custom_id!.split(':')[3]!;
    for (const customId of [`docent:vote:sideways:${answerId}`, 'docent:sources:abc', 'docent:nonsense', 'someone-else:button']) {
      const payload = fake.buttonPress({ customId, message: answered.messageId, user: newUser('prober') });
      fake.dispatchInteraction(payload);
      const body = callbackBody(await callbackOf(payload));
      expect(body, customId).toMatchObject({ type: 4, data: { content: expect.stringMatching(/does not know this button/), flags: MessageFlags.Ephemeral } });
    }
    expect((await readFile(config.FEEDBACK_LOG, 'utf8')).trimEnd().split('\n')).toHaveLength(1);

    const unknown = fake.slashCommand({ name: 'retired-command', options: {}, user: newUser('prober') });
    fake.dispatchInteraction(unknown);
    expect(callbackBody(await callbackOf(unknown))).toMatchObject({ type: 4, data: { content: expect.stringMatching(/npm run register/) } });
  });

  it('tells a user asking a 6th question within a minute to wait, without crashing', async () => {
    const user = newUser('eager');
    for (let i = 0; i < 5; i++) {
      const payload = await ask('Who led the talks in Istanbul?', { user });
      expect(callbackBody(await callbackOf(payload)).type).toBe(5);
      await originalEditOf(payload);
    }
    const sixth = await ask('Who led the talks in Istanbul?', { user });
    const body = callbackBody(await callbackOf(sixth));
    expect(body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect(body.data?.content).toMatch(/^You're asking faster than Docent allows\. Try again in \d+ s\.$/);
    // Other users are unaffected, and the bot still answers.
    const other = await ask('Who led the talks in Istanbul?');
    expect(bodyOf(await originalEditOf(other)).embeds).toHaveLength(1);
  });

  it('answers a burst of 50 askers in turn instead of turning them away', async () => {
    const payloads = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(`Which properties does Russia want returned? (${i})`)));
    const callbacks = await Promise.all(payloads.map(callbackOf));
    // Every one is acknowledged with a deferral at once: nobody is told Docent is busy.
    expect(callbacks.map((callback) => callbackBody(callback).type)).toEqual(payloads.map(() => 5));
    const edits = await Promise.all(payloads.map((payload) => originalEditOf(payload)));
    expect(edits.every((edit) => (bodyOf(edit).embeds?.length ?? 0) === 1)).toBe(true);
  }, 60_000);

  it('turns a failure into a private message with an error id that is in the log with the error', async () => {
    failNextAsk = true;
    const payload = await ask('Who led the talks in Istanbul?');
    expect(callbackBody(await callbackOf(payload)).type).toBe(5);
    const followUp = await followUpOf(payload);
    expect(bodyOf(followUp).flags).toBe(MessageFlags.Ephemeral);
    const content = bodyOf(followUp).content ?? '';
    const errorId = /error id `([0-9a-f]{8})`/.exec(content)?.[1];
    expect(errorId, content).toBeDefined();
    expect(content).not.toMatch(/injected failure/);
    // The public "thinking…" message is removed rather than left hanging.
    const deleted = fake.requests.find((r) => r.method === 'DELETE' && r.path === `/webhooks/${fake.applicationId}/${payload.token}/messages/@original`);
    expect(deleted?.status).toBe(204);

    const logged = logs().find((entry) => entry.errorId === errorId);
    expect(logged).toMatchObject({ level: 50, msg: 'failed to handle an interaction', err: { message: 'injected failure for the error-path test' } });
  });

  it('answers a mention that fails with an error id too', async () => {
    failNextAsk = true;
    const message = fake.messageCreate({ content: `<@${fake.botUser.id}> Who led the talks in Istanbul?`, author: newUser('unlucky') });
    fake.dispatchMessage(message);
    const post = await fake.waitForRequest(
      (r) => r.method === 'POST' && r.path.endsWith('/messages') && bodyOf(r).message_reference?.message_id === message.id,
      ANSWER_MS,
    );
    const errorId = /error id `([0-9a-f]{8})`/.exec(bodyOf(post).content ?? '')?.[1];
    expect(errorId, bodyOf(post).content).toBeDefined();
    expect(bodyOf(post).allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(logs().find((entry) => entry.errorId === errorId)).toMatchObject({
      msg: 'failed to answer a mention',
      err: { message: 'injected failure for the error-path test' },
    });
  });

  it('refuses /reindex to a member without Manage Server, privately, and re-indexes nothing', async () => {
    const before = context.docent.sources().builtAt;
    const payload = fake.slashCommand({ name: 'reindex', user: newUser('member') });
    expect(BigInt(payload.member.permissions) & 32n).toBe(0n);
    fake.dispatchInteraction(payload);
    const body = callbackBody(await callbackOf(payload));
    expect(body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral, content: 'Only admins (Manage Server permission) can re-index.' } });

    // Manage Server alone is not enough when ADMIN_ROLE_IDS is set.
    const manager = fake.slashCommand({ name: 'reindex', user: newUser('manager'), permissions: String(32n | 2048n) });
    fake.dispatchInteraction(manager);
    expect(callbackBody(await callbackOf(manager)).data?.content).toMatch(/admin role configured/);

    expect(reindexCalls).toHaveLength(0);
    expect(context.reindexJob.isRunning).toBe(false);
    expect(context.docent.sources().builtAt).toBe(before);
  });

  it('re-indexes for an admin with progress, answering questions meanwhile', async () => {
    for (const file of NEW_ARTICLES) await cp(path.join(WIKI_ARTICLES, file), path.join(work, 'sources', file));
    const admin = newUser('admin');
    const payload = fake.slashCommand({ name: 'reindex', user: admin, roles: [fake.guild.adminRoleId] });
    expect(BigInt(payload.member.permissions) & 32n).toBe(32n);
    fake.dispatchInteraction(payload);

    const reply = callbackBody(await callbackOf(payload));
    expect(reply).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect(reply.data?.content).toMatch(/^Re-indexing: reading sources/);
    const progress = await originalEditOf(payload, (body) => body.content?.startsWith('Re-indexing') ?? false);
    expect(context.reindexJob.isRunning).toBe(true);

    // Another user's question is answered from the previous index while the re-index runs.
    const question = await ask('Which properties does Russia want returned?');
    const answerEdit = await originalEditOf(question);
    expect(quotesOf(bodyOf(answerEdit).embeds![0]!).some((quote) => quote.text.includes(KILLENWORTH))).toBe(true);

    // A second /reindex joins the running one instead of starting another.
    expect(context.reindexJob.isRunning).toBe(true);
    const second = fake.slashCommand({ name: 'reindex', user: admin, roles: [fake.guild.adminRoleId] });
    fake.dispatchInteraction(second);
    const secondReply = callbackBody(await callbackOf(second));
    expect(secondReply).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect(secondReply.data?.content).toMatch(/^A re-index is already running\. Re-indexing: /);

    const summary = await originalEditOf(payload, (body) => body.content?.startsWith('Re-index finished.') ?? false);
    expect(summary.status).toBe(200);
    expect(indexOf(progress)).toBeLessThan(indexOf(summary));
    expect(indexOf(answerEdit)).toBeLessThan(indexOf(summary));
    const content = bodyOf(summary).content!;
    expect(content).toContain('Index updated.');
    expect(content).toContain(`added:     2 (${NEW_ARTICLES.join(', ')})`);
    expect(content).toContain('unchanged: 2');
    expect(content.length).toBeLessThanOrEqual(2000);
    expect(reindexCalls).toHaveLength(1);
    expect(logs().some((entry) => entry.msg === 're-index finished')).toBe(true);

    // No progress edit overwrites the summary.
    const edits = fake.requests.filter((r) => r.method === 'PATCH' && r.path.includes(payload.token));
    expect(edits.at(-1)).toBe(summary);
    expect(edits.filter((r) => bodyOf(r).content?.startsWith('Re-indexing')).length).toBeGreaterThanOrEqual(1);
  });

  it('answers from the new article after the re-index', async () => {
    const payload = await ask('How high is Mount Aconcagua?');
    const body = bodyOf(await originalEditOf(payload));
    expect(body.embeds).toHaveLength(1);
    const quotes = quotesOf(body.embeds![0]!);
    expectVerbatim(quotes);
    expect(quotes[0]).toMatchObject({ path: 'sources/002_Andes.md', title: 'Andes' });
    expect(quotes.some((quote) => quote.text.includes('Mount Aconcagua, rises to an elevation of about 6,961 m'))).toBe(true);
  });

  describe('admins manage sources from Discord', () => {
    let cdn: Server;
    let cdnUrl: string;
    const pdfBytes = pdfFixture();
    beforeAll(async () => {
      const page = await readFile(path.join(REPO_ROOT, 'tests', 'fixtures', 'article.html'));
      const pdf = await pdfBytes;
      // Stands in for Discord's CDN (attachments) and for a public web server (urls), on 127.0.0.1.
      cdn = createServer((request, response) => {
        if (request.url === '/attachments/field-report.pdf') response.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
        else if (request.url === '/news/bridge') response.writeHead(200, { 'content-type': 'text/html' }).end(page);
        else response.writeHead(404).end();
      });
      await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
      cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => cdn.close(resolve)));

    const admin = () => ({ user: newUser('admin'), roles: [fake.guild.adminRoleId] });

    function sourcesAdd(
      options: { file?: { name: string; size: number }; url?: string },
      who: ReturnType<typeof admin> | { user: { username: string; id: string } },
    ) {
      const attachmentId = snowflake();
      const payload = fake.slashCommand({
        name: 'sources',
        options: [
          {
            type: 1,
            name: 'add',
            options: [
              ...(options.file ? [{ type: 11, name: 'file', value: attachmentId }] : []),
              ...(options.url ? [{ type: 3, name: 'url', value: options.url }] : []),
            ],
          },
        ],
        ...who,
      });
      if (options.file) {
        const url = `${cdnUrl}/attachments/${options.file.name}`;
        Object.assign(payload.data, {
          resolved: {
            attachments: {
              [attachmentId]: { id: attachmentId, filename: options.file.name, size: options.file.size, url, proxy_url: url, content_type: 'application/pdf' },
            },
          },
        });
      }
      fake.dispatchInteraction(payload);
      return payload;
    }

    it('adds an attached PDF for an admin: title, chunk count and a sample sentence; answers cite its page', async () => {
      const payload = sourcesAdd({ file: { name: 'field-report.pdf', size: (await pdfBytes).byteLength } }, admin());
      expect(callbackBody(await callbackOf(payload))).toMatchObject({ type: 5, data: { flags: MessageFlags.Ephemeral } });
      const reply = bodyOf(await originalEditOf(payload));
      expect(reply.content).toMatch(/^Added \*\*Quarterly Field Report\*\* as `quarterly-field-report\.md`: [1-9]\d* chunks, [1-9]\d* sentences\./);
      expect(reply.content).toMatch(/^> .*The survey team mapped forty wells in the northern valley\.$/m);
      expect(readFileSync(path.join(work, 'sources', 'quarterly-field-report.md'), 'utf8')).toContain('<!-- page 2 -->');

      const question = await ask('Who led the drilling crew through the winter?');
      const citation = bodyOf(await originalEditOf(question)).embeds![0]!.fields![0]!.value.split('\n')[0];
      expect(citation).toBe('**[1]** Quarterly Field Report — `sources/quarterly-field-report.md`, page 2');
    });

    it('adds a web page by url, and cites it with a link that opens the article at the quote', async () => {
      const payload = sourcesAdd({ url: `${cdnUrl}/news/bridge` }, admin());
      expect(bodyOf(await originalEditOf(payload)).content).toMatch(/^Added \*\*Harbour Bridge Repairs Finish Early\*\*/);
      const question = await ask('How much did the bridge repairs cost?');
      const citation = bodyOf(await originalEditOf(question)).embeds![0]!.fields![0]!.value.split('\n')[0];
      expect(citation).toBe(
        '**[1]** [Harbour Bridge Repairs Finish Early](https://news.example.org/2025/03/harbour-bridge-repairs#:~:text=The%20project%20cost%2048%20million%20euros%2C,than%20the%20budget%20set%20in%202023.)',
      );
    });

    it('refuses members, a private address, and a file and a url together, each in words', async () => {
      const member = sourcesAdd({ url: `${cdnUrl}/news/bridge` }, { user: newUser('member') });
      expect(callbackBody(await callbackOf(member)).data?.content).toBe('Only admins (Manage Server permission) can add sources.');
      const both = sourcesAdd({ file: { name: 'field-report.pdf', size: 10 }, url: `${cdnUrl}/x` }, admin());
      expect(callbackBody(await callbackOf(both)).data?.content).toBe('Give either a `file` or a `url`, not both and not neither.');
      const internal = sourcesAdd({ url: 'http://10.0.0.8/wiki' }, admin());
      const told = await followUpOf(internal);
      expect(bodyOf(told).content).toMatch(
        /^10\.0\.0\.8 points at 10\.0\.0\.8, which is not a public internet address; Docent only fetches public pages \(error id [0-9a-f]{8}\)$/,
      );
    });

    it('suggests titles while typing, and removes the chosen article into .removed/', async () => {
      const typing = fake.slashCommand({
        name: 'sources',
        options: [{ type: 1, name: 'remove', options: [{ type: 3, name: 'source', value: 'harb', focused: true }] }],
        ...admin(),
      });
      fake.dispatchInteraction({ ...typing, type: 4 } as unknown as Parameters<FakeDiscord['dispatchInteraction']>[0]);
      expect(callbackBody(await callbackOf(typing))).toEqual({
        type: 8,
        data: {
          choices: [{ name: 'Harbour Bridge Repairs Finish Early (harbour-bridge-repairs-finish-early.md)', value: 'harbour-bridge-repairs-finish-early.md' }],
        },
      });

      const payload = fake.slashCommand({
        name: 'sources',
        options: [{ type: 1, name: 'remove', options: [{ type: 3, name: 'source', value: 'harbour-bridge-repairs-finish-early.md' }] }],
        ...admin(),
      });
      fake.dispatchInteraction(payload);
      expect(bodyOf(await originalEditOf(payload)).content).toMatch(/^Removed \*\*Harbour Bridge Repairs Finish Early\*\*\. Its file is kept/);
      expect(context.docent.sources().sources.map((source) => source.id)).not.toContain('harbour-bridge-repairs-finish-early.md');
      const removed = await readdir(path.join(work, 'sources', '.removed'));
      expect(removed).toEqual([expect.stringMatching(/-harbour-bridge-repairs-finish-early\.md$/)]);
      const audit = (await readFile(config.AUDIT_LOG, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(audit.map((entry) => `${entry.action} ${entry.result}`)).toEqual(['add ok', 'add ok', 'add refused', 'remove ok']);
      expect(audit[0].who).toMatch(/^discord:\d+ \(admin\d+\)$/);
    });

    it('answers "Ask Docent" on a message privately, from the message text', async () => {
      const asker = newUser('context');
      const target = fake.messageCreate({ content: 'Who led the talks in Istanbul?', author: newUser('poster') });
      const base = fake.slashCommand({ name: 'Ask Docent', user: asker });
      const payload = {
        ...base,
        data: { id: base.data.id, name: 'Ask Docent', type: 3, target_id: target.id, resolved: { messages: { [target.id]: target } } },
      } as unknown as Parameters<FakeDiscord['dispatchInteraction']>[0];
      fake.dispatchInteraction(payload);
      expect(callbackBody(await callbackOf(base))).toMatchObject({ type: 5, data: { flags: MessageFlags.Ephemeral } });
      const quotes = quotesOf(bodyOf(await originalEditOf(base)).embeds![0]!);
      expect(quotes[0]!.text).toContain('Darchiev');
    });

    it('shows admins the unanswered topics with /gaps, grouping phrasings; members are refused', async () => {
      for (const question of ['How do I book a meeting room?', 'How can I reserve a conference room?', 'room booking for meetings']) {
        await originalEditOf(await ask(question));
      }
      const payload = fake.slashCommand({ name: 'gaps', options: { days: 7 }, ...admin() });
      fake.dispatchInteraction(payload);
      const content = bodyOf(await originalEditOf(payload)).content ?? '';
      expect(content).toMatch(/^\*\*What the sources missed in the last 7 day\(s\)\*\*/);
      expect(content).toMatch(/\*\*3×\*\* (How do I book a meeting room\?|How can I reserve a conference room\?|room booking for meetings) \(also asked as: /);
      const gaps = (await readFile(config.GAPS_LOG, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(gaps.at(-1).asker).toMatch(/^[0-9a-f]{16}$/);

      const member = fake.slashCommand({ name: 'gaps', user: newUser('member') });
      fake.dispatchInteraction(member);
      expect(callbackBody(await callbackOf(member)).data?.content).toBe('Only admins (Manage Server permission) can see the gaps.');
    });
  });

  it('never logs the token, and discord.js raised no client errors', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(TOKEN);
    expect(logLines.join('\n')).not.toContain(TOKEN.split('.')[2]);
    const injected = new Set(['failed to handle an interaction', 'failed to answer a mention', 'unknown command (run npm run register?)']);
    const problems = logs().filter((entry) => (entry.level as number) >= 40 && !injected.has(entry.msg as string));
    expect(problems).toEqual([]);
    expect(logs().some((entry) => entry.msg === 'Docent is online')).toBe(true);
    // Every request the bot made was accepted (no Discord 4xx from an invalid payload).
    const rejected = fake.requests.filter((r) => (r.status ?? 0) >= 400);
    expect(rejected.map((r) => `${r.method} ${r.path} ${r.status} ${JSON.stringify(r.response)}`)).toEqual([]);
  });
});
