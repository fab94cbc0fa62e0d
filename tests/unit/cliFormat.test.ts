import { describe, expect, it } from 'vitest';
import { answerJson, answerText, printable } from '../../src/cli/format.ts';
import type { Answer } from '../../src/docent.ts';

const quote = (text: string) => ({
  text,
  source: { id: 'a.md', title: 'A\u001b]0;pwned\u0007', path: 'sources/a.md' },
  start: 0,
  end: text.length,
  line: 1,
  score: 1,
});

describe('terminal output', () => {
  it('never passes control characters from sources to the terminal', () => {
    const answer: Answer = { question: 'q', answered: true, confidence: 'high', quotes: [quote('Red \u001b[31malert\u001b[0m here.')], hasMore: false };
    const text = answerText(answer);
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('Red \ufffd[31malert\ufffd[0m here.');
    expect(printable('tab\tand\nbreak stay')).toBe('tab\tand\nbreak stay');
    // --json keeps the exact text: it is data, escaped by JSON itself.
    expect(JSON.stringify(answerJson(answer))).toContain('\\u001b[31m');
  });

  it('words each reason for having no quotes', () => {
    const none = (reason: Answer['reason']): Answer => ({ question: '', answered: false, quotes: [], reason, hasMore: false });
    expect(answerText(none('not-covered'))).toBe('The sources do not cover this question.');
    expect(answerText(none('empty-question'))).toBe('The question is empty.');
    expect(answerJson(none('no-more-quotes'))).toMatchObject({ reason: 'There are no more quotes for this question.' });
  });
});
