import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { dayOf, htmlToMarkdown, markdownFile } from './markdown.ts';
import { ConversionError } from './errors.ts';

function meta(document: Document, ...names: string[]): string | undefined {
  for (const name of names) {
    const content = document.querySelector(`meta[property="${name}"], meta[name="${name}"], meta[itemprop="${name}"]`)?.getAttribute('content')?.trim();
    if (content) return content;
  }
  return undefined;
}

/** An absolute http(s) URL, or undefined (a relative canonical link is resolved against the page's own address). */
function absoluteUrl(value: string | undefined | null, base: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A web page's article as a Markdown file: the main text as Readability (Firefox's Reader View)
 * finds it, without navigation and footers; title, date, author and canonical address from the
 * page's metadata into front matter. `pageUrl` is where the page was fetched from, if it was.
 */
export function convertHtml(html: string, pageUrl?: string): string {
  const { document } = parseHTML(html);
  const canonical =
    absoluteUrl(document.querySelector('link[rel="canonical"]')?.getAttribute('href'), pageUrl) ?? absoluteUrl(meta(document, 'og:url'), pageUrl) ?? pageUrl;
  const date = dayOf(
    meta(document, 'article:published_time', 'datePublished', 'date', 'dc.date', 'DC.date') ??
      document.querySelector('time[datetime]')?.getAttribute('datetime'),
  );
  const author = meta(document, 'author', 'article:author', 'dc.creator');
  const title = meta(document, 'og:title') ?? document.querySelector('title')?.textContent?.trim();
  // Readability changes the document it reads, so metadata is read first.
  const article = new Readability(document as unknown as Document).parse();
  const body = htmlToMarkdown(article?.content ?? document.body?.innerHTML ?? '');
  if (body.trim() === '') throw new ConversionError('has no article text that could be extracted');
  return markdownFile(
    { title: article?.title?.trim() || title, date, author: author ?? article?.byline?.trim() ?? undefined, url: canonical, format: 'html' },
    body,
  );
}
