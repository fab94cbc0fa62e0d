import mammoth from 'mammoth';
import { ConversionError } from './errors.ts';
import { htmlToMarkdown, markdownFile } from './markdown.ts';

/** A Word document as a Markdown file: mammoth maps its styles (headings, lists, tables) to HTML, then to Markdown. */
export async function convertDocx(bytes: Uint8Array, url?: string): Promise<string> {
  let html: string;
  try {
    ({ value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }));
  } catch (error) {
    throw new ConversionError(`is not a readable Word document (${error instanceof Error ? error.message : String(error)})`);
  }
  const body = htmlToMarkdown(html);
  if (body.trim() === '') throw new ConversionError('is a Word document without text');
  return markdownFile({ url, format: 'docx' }, body);
}
