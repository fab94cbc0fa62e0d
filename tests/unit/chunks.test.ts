import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunkSource } from '../../src/chunks/chunkSource.ts';
import { icuSentences, paragraphSpans, sentenceSpans } from '../../src/chunks/sentences.ts';
import type { ChunkedSource, Span } from '../../src/chunks/types.ts';
import { parseSource } from '../../src/sources/parseSource.ts';

/** Deterministic stand-in for the tokenizer: one token per word, plus [CLS] and [SEP]. */
const countTokens = (text: string) => text.split(/\s+/).filter(Boolean).length + 2;

const slices = (text: string, spans: readonly Span[]) => spans.map((s) => text.slice(s.start, s.end));

function sentencesOf(text: string, from = 0): string[] {
  return paragraphSpans(text, from).flatMap((p) => slices(text, sentenceSpans(text, p)));
}

/** Invariants every chunking must satisfy, whatever the text. */
function checkInvariants(text: string, bodyStart: number, result: ChunkedSource, maxTokens: number, overlap: number) {
  const { sentences, chunks } = result;
  for (const s of sentences) {
    const slice = text.slice(s.start, s.end);
    expect(s.start).toBeGreaterThanOrEqual(bodyStart);
    expect(slice.length).toBeGreaterThan(0);
    expect(slice).toBe(slice.trim());
  }
  for (let i = 1; i < sentences.length; i++) expect(sentences[i]!.start).toBeGreaterThanOrEqual(sentences[i - 1]!.end);
  chunks.forEach((chunk, i) => {
    const slice = text.slice(chunk.start, chunk.end);
    expect(chunk.index).toBe(i);
    expect(chunk.start).toBeGreaterThanOrEqual(bodyStart);
    expect(chunk.start).toBe(sentences[chunk.firstSentence]!.start);
    expect(chunk.end).toBe(sentences[chunk.lastSentence]!.end);
    expect(slice).toBe(slice.trim());
    expect(slice).not.toMatch(/\n[ \t]*\r?\n/);
    if (chunk.firstSentence !== chunk.lastSentence) expect(countTokens(slice)).toBeLessThanOrEqual(maxTokens);
  });
  // Every sentence is in some chunk.
  const covered = new Set(chunks.flatMap((c) => Array.from({ length: c.lastSentence - c.firstSentence + 1 }, (_, k) => c.firstSentence + k)));
  expect(covered.size).toBe(sentences.length);
  // Consecutive chunks of one paragraph share exactly `overlap` sentences (fewer only when a chunk is shorter).
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!;
    const next = chunks[i]!;
    const sameParagraph = !/\n[ \t]*\r?\n/.test(text.slice(prev.start, next.end));
    if (!sameParagraph) {
      expect(next.firstSentence).toBe(prev.lastSentence + 1);
      continue;
    }
    const shared = Math.max(0, prev.lastSentence - next.firstSentence + 1);
    const prevLength = prev.lastSentence - prev.firstSentence + 1;
    expect(shared).toBe(Math.min(overlap, prevLength - 1));
    // Greedy packing: the previous chunk could not have taken one more sentence.
    const extended = text.slice(prev.start, sentences[prev.lastSentence + 1]!.end);
    expect(countTokens(extended)).toBeGreaterThan(maxTokens);
  }
}

describe('sentenceSpans', () => {
  it('gives exact spans without surrounding whitespace', () => {
    const text = '  First sentence here.   Second one!  Third?\n';
    expect(sentencesOf(text)).toEqual(['First sentence here.', 'Second one!', 'Third?']);
  });

  it('reads a single line break as wrapping, not as a sentence end', () => {
    const text = 'This sentence is\nwrapped over two lines. The next one\r\nis wrapped with CRLF. Short.';
    expect(sentencesOf(text)).toEqual(['This sentence is\nwrapped over two lines.', 'The next one\r\nis wrapped with CRLF.', 'Short.']);
  });

  it('ends a sentence at each line break of text whose lines are too long to be hard-wrapped', () => {
    const long = 'Erosion is the process by which soil and rock are removed from the surface of the Earth by wind or water flow.';
    const text = `A natural arch in Jebel Kharaz, Jordan\n${long}\nIt is a natural process`;
    expect(sentencesOf(text)).toEqual(['A natural arch in Jebel Kharaz, Jordan', long, 'It is a natural process']);
  });

  it('leaves headings out, and list bullets out of sentence spans', () => {
    const text = [
      '# Main Heading',
      '',
      'Body text follows. It has two sentences.',
      '',
      '## Section Two',
      'Text right under the heading.',
      '',
      '- First item is here.',
      '- Second item',
      '* third item',
      '1. Numbered item',
      '2) Another One. With two sentences.',
      '> Quoted words that',
      '> wrap over lines.',
    ].join('\n');
    expect(sentencesOf(text)).toEqual([
      'Body text follows.',
      'It has two sentences.',
      'Text right under the heading.',
      'First item is here.',
      'Second item',
      'third item',
      'Numbered item',
      'Another One.',
      'With two sentences.',
      'Quoted words that\n> wrap over lines.',
    ]);
  });

  it('skips segments without letters or digits', () => {
    expect(sentencesOf('Real sentence.\n\n---\n\n* * *\n\n...\n\nNext one.')).toEqual(['Real sentence.', 'Next one.']);
  });

  it('does not split after abbreviations like "U.S." in a real article paragraph', () => {
    const file = 'reviving-diplomatic-ties-istanbul-talks.md';
    const doc = parseSource({ id: file, path: file, bytes: readFileSync(new URL(`../../sources/${file}`, import.meta.url)) });
    const paragraphs = paragraphSpans(doc.text, doc.bodyStart);
    const paragraph = paragraphs.find((p) => doc.text.slice(p.start, p.end).startsWith('The U.S. State Department issued'));
    expect(paragraph).toBeDefined();
    const found = slices(doc.text, sentenceSpans(doc.text, paragraph!));
    expect(found).toEqual([doc.text.slice(paragraph!.start, paragraph!.end)]);
    expect(found[0]).toMatch(/^The U\.S\. State Department issued .* at the U\.S\. Embassy in Moscow\.$/);

    const all = sentencesOf(doc.text, doc.bodyStart);
    expect(all).toContain(
      'The talks, which extended for more than six hours, took place at the residence of the U.S. Consul General and followed a meeting between U.S. Secretary of State Marco Rubio and Russian Foreign Minister Sergei Lavrov in Saudi Arabia just days earlier.',
    );
    // No "sentence" is a stub that ends on an abbreviation.
    for (const sentence of all) expect(sentence).not.toMatch(/(?:^|\s)(?:U\.S\.|Mr\.|Dr\.)$/);
    // Ordinary sentence ends still split.
    expect(all).toContain(
      'In November, the business newspaper Kommersant reported that Russia had nominated Darchiyev as its next ambassador to the United States.',
    );
  });

  it('reads lone-CR line endings (old Mac files) as line breaks, with offsets into the original text', () => {
    const text = '# Title\r\rFirst paragraph has a sentence. And another one.\r\rSecond paragraph here.\r';
    const { sentences, chunks } = chunkSource('cr.md', text, 0, { maxTokens: 256, overlapSentences: 0, countTokens: (t) => t.split(/\s+/).length + 2 });
    expect(sentences.map((span) => text.slice(span.start, span.end))).toEqual([
      'First paragraph has a sentence.',
      'And another one.',
      'Second paragraph here.',
    ]);
    expect(chunks).toHaveLength(2);
  });

  it('keeps a written-out chat mention <@!id> inside its sentence', () => {
    expect(sentencesOf('Ping <@!123456789012345678> when the build is green. Then deploy.')).toEqual([
      'Ping <@!123456789012345678> when the build is green.',
      'Then deploy.',
    ]);
  });

  it('keeps a name written with initials in one sentence', () => {
    expect(sentencesOf('President John F. Kennedy was shot in Dallas. Then it rained.')).toEqual([
      'President John F. Kennedy was shot in Dallas.',
      'Then it rained.',
    ]);
    expect(sentencesOf('"Appropriate technology" was described by economist E. F. Schumacher in Small is Beautiful. It spread.')).toEqual([
      '"Appropriate technology" was described by economist E. F. Schumacher in Small is Beautiful.',
      'It spread.',
    ]);
    expect(sentencesOf('Starting in the 1890s J. P. Morgan began financing. Banks grew.')).toEqual([
      'Starting in the 1890s J. P. Morgan began financing.',
      'Banks grew.',
    ]);
  });

  it('still ends a sentence at a lone capital that is not an initial', () => {
    expect(sentencesOf('Carrots are rich in vitamin A. Another one is liver.')).toEqual(['Carrots are rich in vitamin A.', 'Another one is liver.']);
    expect(sentencesOf('The fighting ended with World War I. The peace was short.')).toEqual(['The fighting ended with World War I.', 'The peace was short.']);
    expect(sentencesOf('The ridge breaks at 33° S. Near the tip lies another.')).toEqual(['The ridge breaks at 33° S.', 'Near the tip lies another.']);
  });

  it('still splits after titles and initialisms mid-text only when they are not abbreviations', () => {
    expect(sentencesOf('Dr. Smith met Mr. Jones. They talked.')).toEqual(['Dr. Smith met Mr. Jones.', 'They talked.']);
    expect(sentencesOf('It happened in the U.S.')).toEqual(['It happened in the U.S.']);
  });
});

describe('icuSentences', () => {
  const whole = (text: string) => Array.from(new Intl.Segmenter('en', { granularity: 'sentence' }).segment(text), ({ index, segment }) => ({ index, segment }));

  it('segments a window at a time exactly as ICU segments the whole text', () => {
    // "c. 1220 m" is one sentence only because of the "m" after the number: a window ending inside the number must not split it.
    const article = readFileSync(new URL('../../sources/us-russia-istanbul-talks-april-2025.md', import.meta.url), 'utf8');
    const text = `On the west side it flowed down to c. 1220 m asl. The massifs rise. ${'word '.repeat(60)}ends here. "Is it?" she asked. Yes. ${article}`;
    for (const window of [...Array.from({ length: 60 }, (_, k) => 8 + k), 4096]) expect(Array.from(icuSentences(text, window))).toEqual(whole(text));
  });

  it('reads a bounded number of segments from each window of a long paragraph, and goes on from there', () => {
    // About 200 segments in each 4,096-character window: more than are read from one.
    const text = 'The vitamin is called A. It helps a lot. '.repeat(2000);
    const segments = Array.from(icuSentences(text));
    expect(segments).toEqual(whole(text));
    expect(segments).toHaveLength(4000);
  });
});

describe('chunkSource', () => {
  const frontMatter = '---\ntitle: Chunk test. With a sentence-like title.\ndate: 2025-01-01\n---\n';
  const body = [
    'Alpha one two three. Bravo four five six seven. Charlie eight nine.',
    'Delta ten eleven twelve thirteen. Echo fourteen.',
    '',
    'Foxtrot fifteen sixteen. Golf seventeen eighteen nineteen twenty.',
    '',
    '',
    'Hotel one. India two three. Juliet four five six. Kilo seven eight. Lima nine ten eleven.',
  ].join('\n');
  const text = frontMatter + body;
  const bodyStart = frontMatter.length;

  it('never chunks the front matter', () => {
    const { sentences, chunks } = chunkSource('doc.md', text, bodyStart, { maxTokens: 12, overlapSentences: 1, countTokens });
    expect(sentences[0]!.start).toBe(bodyStart);
    expect(slices(text, sentences).join(' ')).not.toMatch(/title|date|---/);
    expect(chunks.every((c) => c.start >= bodyStart)).toBe(true);
    expect(chunks.every((c) => c.sourceId === 'doc.md')).toBe(true);
  });

  it('packs whole sentences greedily up to maxTokens, with one sentence of overlap', () => {
    const result = chunkSource('doc.md', text, bodyStart, { maxTokens: 12, overlapSentences: 1, countTokens });
    checkInvariants(text, bodyStart, result, 12, 1);
    expect(slices(text, result.chunks)).toEqual([
      'Alpha one two three. Bravo four five six seven.',
      'Bravo four five six seven. Charlie eight nine.',
      'Charlie eight nine.\nDelta ten eleven twelve thirteen. Echo fourteen.',
      'Foxtrot fifteen sixteen. Golf seventeen eighteen nineteen twenty.',
      'Hotel one. India two three. Juliet four five six.',
      'Juliet four five six. Kilo seven eight.',
      'Kilo seven eight. Lima nine ten eleven.',
    ]);
  });

  it('repeats exactly overlapSentences sentences between chunks of a paragraph', () => {
    for (const overlap of [0, 1, 2]) {
      const result = chunkSource('doc.md', text, bodyStart, { maxTokens: 14, overlapSentences: overlap, countTokens });
      checkInvariants(text, bodyStart, result, 14, overlap);
    }
    const none = chunkSource('doc.md', text, bodyStart, { maxTokens: 14, overlapSentences: 0, countTokens });
    for (let i = 1; i < none.chunks.length; i++) expect(none.chunks[i]!.firstSentence).toBe(none.chunks[i - 1]!.lastSentence + 1);
    const two = chunkSource('doc.md', text, bodyStart, { maxTokens: 14, overlapSentences: 2, countTokens });
    expect(two.chunks.some((c, i) => i > 0 && two.chunks[i - 1]!.lastSentence - c.firstSentence + 1 === 2)).toBe(true);
  });

  it('puts a whole paragraph in one chunk when it fits, and never joins paragraphs', () => {
    const result = chunkSource('doc.md', text, bodyStart, { maxTokens: 256, overlapSentences: 1, countTokens });
    checkInvariants(text, bodyStart, result, 256, 1);
    expect(slices(text, result.chunks)).toEqual(
      body
        .split(/\n\s*\n/)
        .map((p) => p.trim())
        .filter(Boolean),
    );
  });

  it('makes a single over-long sentence a chunk of its own', () => {
    const long = `Start ${'word '.repeat(30)}end.`;
    const para = `Short one. ${long} Short two.`;
    const result = chunkSource('doc.md', para, 0, { maxTokens: 10, overlapSentences: 1, countTokens });
    checkInvariants(para, 0, result, 10, 1);
    expect(slices(para, result.chunks)).toEqual(['Short one.', long, 'Short two.']);
  });

  it('chunks a text of 150,000 sentences and no blank line (one paragraph)', () => {
    const text = 'It rains. '.repeat(150_000);
    const result = chunkSource('log.txt', text, 0, { maxTokens: 64, overlapSentences: 0, countTokens });
    expect(result.sentences).toHaveLength(150_000);
    expect(result.sentences.at(-1)).toEqual({ start: text.length - 10, end: text.length - 1 });
  });

  it('keeps exact offsets in CRLF text with wrapped lines', () => {
    const crlf = '---\r\ntitle: X\r\n---\r\nOne two\r\nthree. Four five.\r\n\r\nSix seven eight.\r\n';
    const doc = parseSource({ id: 'c.md', path: 'c.md', bytes: Buffer.from(crlf) });
    const result = chunkSource('c.md', doc.text, doc.bodyStart, { maxTokens: 64, overlapSentences: 1, countTokens });
    checkInvariants(doc.text, doc.bodyStart, result, 64, 1);
    expect(slices(doc.text, result.sentences)).toEqual(['One two\r\nthree.', 'Four five.', 'Six seven eight.']);
    expect(slices(doc.text, result.chunks)).toEqual(['One two\r\nthree. Four five.', 'Six seven eight.']);
  });

  it('satisfies the invariants on the real sources', () => {
    for (const file of ['us-russia-istanbul-talks-april-2025.md', 'reviving-diplomatic-ties-istanbul-talks.md']) {
      const doc = parseSource({ id: file, path: file, bytes: readFileSync(new URL(`../../sources/${file}`, import.meta.url)) });
      for (const maxTokens of [24, 40, 128]) {
        const result = chunkSource(file, doc.text, doc.bodyStart, { maxTokens, overlapSentences: 1, countTokens });
        expect(result.chunks.length).toBeGreaterThan(0);
        checkInvariants(doc.text, doc.bodyStart, result, maxTokens, 1);
      }
    }
  });
});
