import { describe, expect, it } from 'vitest';
import { quoteLink, textFragment } from '../../src/answer/links.ts';
import { pageAt, pageStarts } from '../../src/sources/pages.ts';

describe('links to a quote', () => {
  it('a short quote is matched whole; a long one by its first and last six words', () => {
    expect(textFragment('Night closures end on Sunday.')).toBe(':~:text=Night%20closures%20end%20on%20Sunday.');
    expect(textFragment('one two three four five six seven eight nine ten eleven twelve thirteen')).toBe(
      ':~:text=one%20two%20three%20four%20five%20six,eight%20nine%20ten%20eleven%20twelve%20thirteen',
    );
  });

  it('escapes the characters a text directive gives a meaning (- , &) and drops Markdown emphasis', () => {
    expect(textFragment('A well-kept, **tested** R&D lab')).toBe(':~:text=A%20well%2Dkept%2C%20tested%20R%26D%20lab');
  });

  it('a web address gets a text fragment (replacing its own fragment), a PDF its page, anything else no link', () => {
    expect(quoteLink('https://example.org/a#top', 'Short quote.')).toBe('https://example.org/a#:~:text=Short%20quote.');
    expect(quoteLink('https://example.org/report.pdf', 'Short quote.', 3)).toBe('https://example.org/report.pdf#page=3');
    expect(quoteLink('file:///etc/passwd', 'x')).toBeUndefined();
    expect(quoteLink('not a url', 'x')).toBeUndefined();
  });
});

describe('pages of a converted PDF', () => {
  const text = 'front\n<!-- page 1 -->\n\nfirst page\n\n<!-- page 2 -->\n\nsecond page';
  it('finds each page marker and the page of any offset', () => {
    const starts = pageStarts(text);
    expect(starts).toEqual([text.indexOf('<!-- page 1'), text.indexOf('<!-- page 2')]);
    expect(pageAt(starts, text.indexOf('first'))).toBe(1);
    expect(pageAt(starts, text.indexOf('second'))).toBe(2);
    expect(pageAt([], 10)).toBeUndefined();
  });
});
