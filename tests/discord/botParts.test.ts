// Unit tests of the Discord layer's small parts: limits, permissions, feedback log, config, start-up, mentions.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { botConfigSchema } from '../../src/discord/config.ts';
import { feedbackLog, hashUserId } from '../../src/discord/feedback.ts';
import { AnswerQueue, RateLimiter } from '../../src/discord/limits.ts';
import { addressesBot, questionFromMention } from '../../src/discord/mention.ts';
import { checkAdmin } from '../../src/discord/permissions.ts';
import { configErrorLine, createLogger } from '../../src/discord/startup.ts';

const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789';
const CLIENT_ID = '123456789012345678';

describe('RateLimiter', () => {
  it('allows 5 questions a minute, tells the 6th how long to wait, and allows again after the window', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(5, () => now);
    for (let i = 0; i < 5; i++) {
      expect(limiter.take('alice')).toBe(0);
      now += 1_000;
    }
    // The first question was 5 s ago: it leaves the window in 55 s.
    expect(limiter.take('alice')).toBe(55);
    expect(limiter.take('bob')).toBe(0); // per user
    now += 54_000;
    expect(limiter.take('alice')).toBe(1);
    now += 1_000; // 60 s after the first question
    expect(limiter.take('alice')).toBe(0);
    expect(limiter.take('alice')).toBeGreaterThan(0); // the second to fifth are still within the window
  });

  it('does not count refused attempts against the user', () => {
    let now = 0;
    const limiter = new RateLimiter(1, () => now);
    expect(limiter.take('u')).toBe(0);
    for (let i = 0; i < 10; i++) expect(limiter.take('u')).toBeGreaterThan(0);
    now = 60_000;
    expect(limiter.take('u')).toBe(0);
  });
});

describe('AnswerQueue', () => {
  it('answers in turn, at most `concurrency` at once, and is full only when enough are waiting', async () => {
    const queue = new AnswerQueue(2, 3);
    const releases: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const job = (n: number) => () =>
      new Promise<number>((resolve) => {
        running++;
        most = Math.max(most, running);
        releases.push(() => {
          running--;
          order.push(n);
          resolve(n);
        });
      });
    const answers = [1, 2, 3, 4, 5].map((n) => queue.run(job(n)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.waiting).toBe(3);
    expect(queue.full).toBe(true);
    while (releases.length > 0 || order.length < 5) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4, 5]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    expect(queue.full).toBe(false);
    // A failed answer frees its turn.
    await expect(queue.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.run(async () => 'after')).toBe('after');
  });

  it('refunds a turned-away question against the rate limit', () => {
    const limiter = new RateLimiter(1, () => 0);
    expect(limiter.take('u')).toBe(0);
    limiter.refund('u');
    expect(limiter.take('u')).toBe(0);
    expect(limiter.take('u')).toBeGreaterThan(0);
  });
});

describe('checkAdmin', () => {
  const ADMIN = '111111111111111111';
  const OTHER = '222222222222222222';
  it.each([
    { manage: false, roles: [], adminRoles: [], allowed: false },
    { manage: false, roles: [ADMIN], adminRoles: [ADMIN], allowed: false },
    { manage: true, roles: [], adminRoles: [], allowed: true },
    { manage: true, roles: [OTHER], adminRoles: [], allowed: true },
    { manage: true, roles: [], adminRoles: [ADMIN], allowed: false },
    { manage: true, roles: [OTHER], adminRoles: [ADMIN], allowed: false },
    { manage: true, roles: [OTHER, ADMIN], adminRoles: [ADMIN], allowed: true },
    { manage: true, roles: [OTHER], adminRoles: [ADMIN, OTHER], allowed: true },
  ])('Manage Server $manage, roles $roles, ADMIN_ROLE_IDS $adminRoles → allowed $allowed', ({ manage, roles, adminRoles, allowed }) => {
    const check = checkAdmin(manage, roles, adminRoles);
    expect(check.allowed).toBe(allowed);
    if (allowed) expect(check.reason).toBeUndefined();
    else expect(check.reason).toMatch(manage ? /admin role/ : /Manage Server/);
  });
});

describe('feedback log', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('appends one JSON line per vote with a hashed user id, never the raw one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'docent-feedback-'));
    dirs.push(dir);
    const file = path.join(dir, 'nested', 'feedback.jsonl');
    const log = feedbackLog(file, CLIENT_ID);
    const userId = '987654321098765432';
    const first = await log.record({ question: 'Who led the talks?', sources: ['a.md'], verdict: 'helpful', userId, time: new Date('2025-04-10T00:00:00Z') });
    await log.record({ question: 'Which properties?', sources: ['a.md', 'b.md'], verdict: 'not_helpful', userId: '123123123123123123' });

    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(text).not.toContain(userId);
    expect(text).not.toContain('123123123123123123');
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2025-04-10T00:00:00.000Z',
      question: 'Who led the talks?',
      sources: ['a.md'],
      verdict: 'helpful',
      user: hashUserId(userId, CLIENT_ID),
    });
    expect(first.user).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.parse(lines[1]!)).toMatchObject({ verdict: 'not_helpful', sources: ['a.md', 'b.md'] });

    // Append-only: a new log object on the same file adds to it.
    await feedbackLog(file, CLIENT_ID).record({ question: 'Again', sources: [], verdict: 'helpful', userId });
    const again = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(again.slice(0, 2)).toEqual(lines);
    expect(JSON.parse(again[2]!).user).toBe(first.user); // the same user hashes the same way
  });

  it('hashes per salt, so ids are not comparable across bots', () => {
    expect(hashUserId('42', 'a')).not.toBe(hashUserId('42', 'b'));
    expect(hashUserId('42', 'a')).toBe(hashUserId('42', 'a'));
  });
});

describe('bot configuration', () => {
  function configError(env: Record<string, string | undefined>): ConfigError {
    try {
      parseConfig(botConfigSchema, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  it('parses a minimal configuration with defaults', () => {
    const config = parseConfig(botConfigSchema, { DISCORD_TOKEN: TOKEN, DISCORD_CLIENT_ID: CLIENT_ID });
    expect(config).toMatchObject({
      DISCORD_TOKEN: TOKEN,
      DISCORD_CLIENT_ID: CLIENT_ID,
      ADMIN_ROLE_IDS: [],
      RATE_LIMIT_PER_MINUTE: 5,
      MAX_CONCURRENT_ANSWERS: 4,
      MAX_WAITING_QUESTIONS: 200,
      MAX_QUESTION_CHARS: 300,
      REINDEX_PROGRESS_MS: 3000,
      LOG_LEVEL: 'info',
    });
    expect(config.DISCORD_GUILD_ID).toBeUndefined();
    expect(config.DISCORD_API_URL).toBeUndefined();
  });

  it('names the missing token and client id, and where to find them', () => {
    const error = configError({});
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DISCORD_TOKEN is required \(Developer Portal/),
        expect.stringMatching(/^DISCORD_CLIENT_ID is required \(Developer Portal/),
      ]),
    );
    // Blank counts as unset.
    expect(configError({ DISCORD_TOKEN: '  ', DISCORD_CLIENT_ID: CLIENT_ID }).issues).toEqual([expect.stringMatching(/^DISCORD_TOKEN is required/)]);
  });

  it('never echoes a malformed token', () => {
    const secret = 'not-a-token-but-secret-anyway';
    const error = configError({ DISCORD_TOKEN: secret, DISCORD_CLIENT_ID: CLIENT_ID });
    expect(error.issues).toEqual([expect.stringMatching(/^DISCORD_TOKEN has 1 dot-separated part; a bot token has 3/)]);
    expect(error.message).not.toContain(secret);
    expect(configErrorLine(error)).not.toContain(secret);
  });

  it.each([
    ['abcdefghijklmnopqrstu.abcd.efgh', /too short to be a bot token \(parts of 21, 4 and 4 characters; a real one has at least 20, 4 and 20\)/],
    ['MTIzNDU2Nzg5MDEyMzQ1Njc4.Gab$E.abcdefghijklmnopqrstuvwxyz', /characters a bot token never holds/],
    ['MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghij klmnopqrstuvwxyz', /contains spaces/],
    ['a.b', /has 2 dot-separated parts/],
  ])('says why %j is not a bot token', (token, reason) => {
    const error = configError({ DISCORD_TOKEN: token, DISCORD_CLIENT_ID: CLIENT_ID });
    expect(error.issues).toEqual([expect.stringMatching(reason)]);
    expect(error.message).not.toContain(token);
  });

  it('echoes other malformed values, naming the setting', () => {
    const error = configError({ DISCORD_TOKEN: TOKEN, DISCORD_CLIENT_ID: 'abc', RATE_LIMIT_PER_MINUTE: '0', DISCORD_API_URL: 'nope' });
    expect(error.issues).toEqual(
      expect.arrayContaining([
        'DISCORD_CLIENT_ID must be a Discord id (17–20 digits) (got "abc")',
        'RATE_LIMIT_PER_MINUTE must be at least 1 (got "0")',
        expect.stringMatching(/^DISCORD_API_URL must be a URL/),
      ]),
    );
  });

  it('parses ADMIN_ROLE_IDS as a comma-separated list', () => {
    const base = { DISCORD_TOKEN: TOKEN, DISCORD_CLIENT_ID: CLIENT_ID };
    expect(parseConfig(botConfigSchema, { ...base, ADMIN_ROLE_IDS: ' 111111111111111111, 222222222222222222 ,,' }).ADMIN_ROLE_IDS).toEqual([
      '111111111111111111',
      '222222222222222222',
    ]);
    expect(parseConfig(botConfigSchema, { ...base, ADMIN_ROLE_IDS: '111111111111111111' }).ADMIN_ROLE_IDS).toEqual(['111111111111111111']);
    expect(configError({ ...base, ADMIN_ROLE_IDS: '111111111111111111,admins' }).issues).toEqual([
      expect.stringMatching(/^ADMIN_ROLE_IDS\.1: ADMIN_ROLE_IDS entries must be a Discord id/),
    ]);
  });

  it('explains a bad start-up in one line pointing at .env.example and npm run ask', () => {
    const line = configErrorLine(configError({}));
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^Docent cannot start: DISCORD_TOKEN is required/);
    expect(line).toContain('.env.example');
    expect(line).toContain('npm run ask');
  });
});

describe('createLogger', () => {
  it('redacts the token wherever it is likely to be logged', () => {
    let output = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ token: TOKEN }, 'a');
    logger.info({ client: { token: TOKEN } }, 'b');
    logger.info({ config: { DISCORD_TOKEN: TOKEN } }, 'c');
    logger.info({ DISCORD_TOKEN: TOKEN }, 'd');
    logger.info({ headers: { authorization: `Bot ${TOKEN}` } }, 'e');
    expect(output.trimEnd().split('\n')).toHaveLength(5);
    expect(output).not.toContain(TOKEN);
    expect(output).toContain('[redacted]');
  });

  it('redacts interaction tokens in the URLs of logged REST errors', async () => {
    let output = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const interactionToken = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OkFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFla';
    const error = Object.assign(new Error('Unknown Webhook'), {
      url: `https://discord.com/api/v10/webhooks/123456789012345678/${interactionToken}/messages/@original`,
      method: 'PATCH',
    });
    const logger = createLogger('info', sink);
    logger.error({ err: error }, 'failed to edit');
    logger.warn(`POST /interactions/123456789012345678/${interactionToken}/callback returned 500`);
    expect(output.trimEnd().split('\n')).toHaveLength(2);
    expect(output).not.toContain(interactionToken);
    expect(output).toContain('/webhooks/123456789012345678/[redacted]/messages/@original');
    expect(output).toContain('/interactions/123456789012345678/[redacted]/callback');
  });
});

describe('questionFromMention', () => {
  const BOT = '100000000000000001';
  it.each([
    [`<@${BOT}> Who led the talks?`, 'Who led the talks?'],
    [`<@!${BOT}>   Who led\nthe talks?  `, 'Who led the talks?'],
    [`Who led the talks, <@${BOT}>?`, 'Who led the talks, ?'],
    [`<@${BOT}> <@${BOT}> twice`, 'twice'],
    [`<@${BOT}>`, ''],
    [`<@200000000000000002> hi <@${BOT}>`, 'hi'],
    [`<@${BOT}> Who led? @everyone <@&300000000000000003> <#400000000000000004> @here`, 'Who led?'],
  ])('%j → %j', (content, question) => {
    expect(questionFromMention(content, BOT)).toBe(question);
  });
});

describe('addressesBot', () => {
  const BOT = '100000000000000001';
  it('is true only for a mention written in the text, not a reply ping', () => {
    expect(addressesBot(`<@${BOT}> hello`, BOT)).toBe(true);
    expect(addressesBot(`hello <@!${BOT}>`, BOT)).toBe(true);
    expect(addressesBot('thanks!', BOT)).toBe(false);
    expect(addressesBot('<@100000000000000002> hello', BOT)).toBe(false);
  });
});
