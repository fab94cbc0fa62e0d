// Unit tests of what Docent's Discord messages look like: escaping, numbering, Discord's limits, paging.
import { ComponentType, type APIEmbed } from 'discord.js';
import { describe, expect, it } from 'vitest';
import type { Answer, Quote } from '../../src/answer/types.ts';
import type { IndexedSource } from '../../src/index/manifest.ts';
import { answerButtons, escapeText, LIMITS, quoteBlocks, renderAnswer, renderSources, truncate } from '../../src/discord/render.ts';

function quote(text: string, overrides: Partial<Omit<Quote, 'source'>> & { source?: Partial<Quote['source']> } = {}): Quote {
  const { source, ...rest } = overrides;
  return {
    text,
    source: { id: 'a.md', title: 'An Article', path: 'sources/a.md', ...source },
    start: 0,
    end: text.length,
    line: 7,
    score: 1,
    ...rest,
  };
}

function answer(quotes: Quote[], question = 'What happened?'): Answer {
  return { question, answered: true, quotes, hasMore: false };
}

/** Every string of an embed Discord counts towards its 6000-character total. */
function embedTotal(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0)
  );
}

function expectWithinLimits(embed: APIEmbed): void {
  expect(embed.title?.length ?? 0).toBeLessThanOrEqual(LIMITS.title);
  expect(embed.description?.length ?? 0).toBeLessThanOrEqual(LIMITS.description);
  for (const field of embed.fields ?? []) {
    expect(field.name.length).toBeLessThanOrEqual(LIMITS.fieldName);
    expect(field.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    expect(field.value.length).toBeGreaterThan(0);
  }
  expect(embed.footer?.text.length ?? 0).toBeLessThanOrEqual(LIMITS.footer);
  expect(embedTotal(embed)).toBeLessThanOrEqual(LIMITS.embedTotal);
}

/** Reverses escapeText (except its joining of lines), to compare with the source text. */
const unescaped = (text: string) => text.replace(/\u200b/g, '').replace(/\\(.)/g, '$1');

describe('escapeText', () => {
  it.each([
    ['@everyone', '@\u200beveryone'],
    ['@here', '@\u200bhere'],
    ['<@123>', '<\u200b@\u200b123>'],
    ['<@!123>', '<\u200b@\u200b!123>'],
    ['<@&456>', '<\u200b@\u200b&456>'],
    ['<#789>', '<\u200b#789>'],
    ['</ask:1>', '<\u200b/ask:1>'],
    ['<t:1700000000:R>', '<\u200bt:1700000000:R>'],
    ['**bold**', '\\*\\*bold\\*\\*'],
    ['*it* _it_ __u__ ~~s~~ ||spoiler||', '\\*it\\* \\_it\\_ \\_\\_u\\_\\_ \\~\\~s\\~\\~ \\|\\|spoiler\\|\\|'],
    ['`code`', '\\`code\\`'],
    ['```js\nx\n```', '\\`\\`\\`js x \\`\\`\\`'],
    ['[link](http://x)', '\\[link](http://x)'],
    ['[a](http://x) and [b](http://y)', '\\[a](http://x) and \\[b](http://y)'],
    ['> quote', '\\> quote'],
    ['# heading', '\\# heading'],
    ['- item', '\\- item'],
    ['1. item', '1\\. item'],
  ])('makes %j inert', (input, expected) => {
    expect(escapeText(input)).toBe(expected);
    expect(unescaped(escapeText(input))).toBe(input.replace(/\s*\n\s*/g, ' '));
  });

  it('joins lines, so quoted text cannot leave its block quote or start a heading or list', () => {
    const escaped = escapeText('first line\n> not a quote\r\n# not a heading\n\n- not a list');
    expect(escaped).not.toContain('\n');
    expect(escaped).toBe('first line > not a quote # not a heading - not a list');
  });

  it('leaves no raw mention in a text full of them', () => {
    const escaped = escapeText('hi @everyone and @here, <@123> <@!123> <@&456> <#789>');
    expect(escaped).not.toMatch(/@(everyone|here)/);
    expect(escaped).not.toMatch(/<[@#]/);
  });
});

describe('truncate', () => {
  it('keeps short text and cuts long text at a word boundary with an ellipsis', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('one two three four five', 12)).toBe('one two…');
    expect(truncate('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('never leaves a dangling escape backslash', () => {
    const cut = truncate(escapeText('a'.repeat(8) + '*'.repeat(20)), 12);
    expect(cut.length).toBeLessThanOrEqual(12);
    expect(cut).not.toMatch(/(^|[^\\])(\\\\)*\\…$/);
  });
});

describe('renderAnswer', () => {
  it('numbers quotes [n] in block quotes and lists their sources with title, file and line', () => {
    const rendered = renderAnswer(
      answer([
        quote('The first sentence.', { line: 3 }),
        quote('The second sentence.', { line: 9, source: { id: 'b.md', title: 'Another Article', path: 'sources/b.md' } }),
      ]),
    );
    expect(rendered.content).toBeUndefined();
    const [embed] = rendered.embeds;
    expect(rendered.embeds).toHaveLength(1);
    expect(embed!.title).toBe('What happened?');
    expect(embed!.description).toBe('> The first sentence. **[1]**\n\n> The second sentence. **[2]**');
    expect(embed!.fields).toEqual([
      {
        name: 'Sources',
        value: '**[1]** An Article — `sources/a.md`, line 3\n**[2]** Another Article — `sources/b.md`, line 9',
      },
    ]);
    expectWithinLimits(embed!);
  });

  it('continues numbering from firstNumber (for "More quotes")', () => {
    const [embed] = renderAnswer(answer([quote('Fourth.'), quote('Fifth.')]), 4).embeds;
    expect(embed!.description).toBe('> Fourth. **[4]**\n\n> Fifth. **[5]**');
    expect(embed!.fields![0]!.value).toMatch(/^\*\*\[4\]\*\* .*\n\*\*\[5\]\*\* /);
  });

  it('escapes quotes, titles, paths and the question so nothing formats or pings', () => {
    const hostile = '**bold** `code` [link](http://x) @everyone @here <@123> <@&456>\n> quote\n# heading';
    const rendered = renderAnswer(answer([quote(hostile, { source: { title: `Title ${hostile}`, path: 'sources/`odd` @everyone.md' } })], `Q ${hostile}`));
    const [embed] = rendered.embeds;
    const everything = [embed!.title, embed!.description, embed!.fields![0]!.value].join('\n');
    expect(everything).not.toMatch(/@(everyone|here)/);
    expect(everything).not.toMatch(/<[@#]/);
    expect(everything).not.toMatch(/(^|[^\\])\[link\]/);
    expect(everything).not.toMatch(/(^|[^\\])\*\*bold/);
    // The path sits in one closed code span; its own backticks cannot close it early.
    expect(embed!.fields![0]!.value).toContain("`sources/'odd' @\u200beveryone.md`");
    // One block quote line per quote: the newline inside the quote text did not end it.
    expect(embed!.description!.split('\n')).toHaveLength(1);
    expect(embed!.description).toMatch(/^> .* \*\*\[1\]\*\*$/);
    expect(unescaped(embed!.description!.replace(/^> | \*\*\[1\]\*\*$/g, ''))).toBe(hostile.replace(/\n/g, ' '));
  });

  it.each([1, 3, 10])('keeps every Discord limit with %i extreme quotes, never cutting a [n] marker', (count) => {
    const long = (label: string, length: number) => `${label} ${'word **x** @everyone '.repeat(length / 20)}`.slice(0, length);
    const quotes = Array.from({ length: count }, (_, i) =>
      quote(long(`quote${i}`, 5000), { line: 100_000 + i, source: { title: long(`title${i}`, 2000), path: `sources/${'deep/'.repeat(300)}${i}.md` } }),
    );
    const rendered = renderAnswer(answer(quotes, long('question', 10_000)));
    const [embed] = rendered.embeds;
    expectWithinLimits(embed!);
    const blocks = embed!.description!.split('\n\n');
    expect(blocks.length).toBeGreaterThan(0);
    blocks.forEach((block, i) => expect(block).toMatch(new RegExp(`^> .+… \\*\\*\\[${i + 1}\\]\\*\\*$`)));
    // Only the quotes shown are cited, and the answer says how many that is (the rest page on).
    const lines = embed!.fields![0]!.value.split('\n');
    expect(lines).toHaveLength(blocks.length);
    expect(rendered.shown).toBe(blocks.length);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^\\*\\*\\[${i + 1}\\]\\*\\* .+ — \`[^\`]+\`, line ${100_000 + i}$`));
    });
  });

  it('shortens a quote before its marker rather than dropping the marker', () => {
    const blocks = quoteBlocks([quote('a '.repeat(100)), quote('b '.repeat(100))], 120);
    expect(blocks.text.length).toBeLessThanOrEqual(120);
    expect(blocks.text).toMatch(/^> (a )+a?… \*\*\[1\]\*\*$/);
    expect(blocks.count).toBe(1);
  });

  it('says plainly when the quotes are only the closest passages, and not when confidence is high', () => {
    const low = renderAnswer({ ...answer([quote('Close but not it.')]), confidence: 'low' });
    expect(low.content).toBe('These are the closest passages; they may not answer this directly.');
    expect(low.embeds[0]!.description).toContain('Close but not it.');
    const high = renderAnswer({ ...answer([quote('The answer.')]), confidence: 'high' });
    expect(high.content).toBeUndefined();
    expect(high.embeds[0]!.color).not.toBe(low.embeds[0]!.color);
  });

  it('renders a declined answer as a short message with no embed', () => {
    const declined: Answer = { question: 'What is the capital of France?', answered: false, quotes: [], reason: 'not-covered', hasMore: false };
    expect(renderAnswer(declined)).toEqual({ content: 'The sources do not cover this question.', embeds: [], shown: 0 });
    expect(renderAnswer({ ...declined, reason: 'no-more-quotes' }).content).toBe('There are no more quotes for this question.');
  });
});

describe('answerButtons', () => {
  it('offers More quotes (disabled when there are none), Helpful and Not helpful', () => {
    const row = answerButtons('abc', false).toJSON();
    expect(row.components.map((button) => ({ ...button }))).toEqual([
      expect.objectContaining({ type: ComponentType.Button, custom_id: 'docent:more:abc', label: 'More quotes', disabled: true }),
      expect.objectContaining({ custom_id: 'docent:vote:up:abc', label: 'Helpful' }),
      expect.objectContaining({ custom_id: 'docent:vote:down:abc', label: 'Not helpful' }),
    ]);
    expect(answerButtons('abc', true).toJSON().components[0]).toMatchObject({ disabled: false });
  });
});

describe('renderSources', () => {
  const source = (i: number): IndexedSource => ({
    id: `s${i}.md`,
    path: `sources/s${i}.md`,
    title: `Source ${i}`,
    hash: 'h',
    chunks: i,
    sentences: i,
    indexedAt: '2025-01-01T00:00:00.000Z',
  });
  const many = Array.from({ length: 25 }, (_, i) => source(i + 1));
  const buttons = (page: ReturnType<typeof renderSources>) =>
    page.components.flatMap((row) => row.toJSON().components) as Array<{ custom_id: string; disabled?: boolean }>;

  it('shows 10 sources per page with Previous/Next disabled at the ends', () => {
    const first = renderSources(many, 0, '2025-01-02');
    expect(first.embeds[0]!.title).toBe('Indexed sources (25)');
    expect(first.embeds[0]!.description!.split('\n')).toHaveLength(10);
    expect(first.embeds[0]!.description).toContain('Source 1**');
    expect(first.embeds[0]!.footer!.text).toBe('Page 1 of 3 · index built 2025-01-02');
    expect(buttons(first)).toEqual([
      expect.objectContaining({ custom_id: 'docent:sources:-1', disabled: true }),
      expect.objectContaining({ custom_id: 'docent:sources:1', disabled: false }),
    ]);

    const middle = renderSources(many, 1);
    expect(middle.embeds[0]!.description).toContain('Source 11**');
    expect(buttons(middle).map((b) => b.disabled)).toEqual([false, false]);

    const last = renderSources(many, 2);
    expect(last.embeds[0]!.description!.split('\n')).toHaveLength(5);
    expect(last.embeds[0]!.footer!.text).toBe('Page 3 of 3');
    expect(buttons(last)).toEqual([
      expect.objectContaining({ custom_id: 'docent:sources:1', disabled: false }),
      expect.objectContaining({ custom_id: 'docent:sources:3', disabled: true }),
    ]);
  });

  it('clamps out-of-range pages and needs no buttons for one page', () => {
    expect(renderSources(many, 99).embeds[0]!.footer!.text).toBe('Page 3 of 3');
    expect(renderSources(many, -5).embeds[0]!.footer!.text).toBe('Page 1 of 3');
    expect(renderSources(many.slice(0, 10), 0).components).toEqual([]);
    expect(renderSources([], 0).embeds[0]!.description).toMatch(/No sources are indexed yet/);
  });

  it('escapes source titles and keeps the description within limits', () => {
    const hostile = { ...source(1), title: '@everyone **x** '.repeat(100) };
    const [embed] = renderSources(
      Array.from({ length: 10 }, () => hostile),
      0,
    ).embeds;
    expect(embed!.description).not.toMatch(/@everyone/);
    expect(embed!.description!.length).toBeLessThanOrEqual(LIMITS.description);
  });
});
