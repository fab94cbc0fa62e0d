import path from 'node:path';
import { convertDocx } from './docx.ts';
import { convertHtml } from './html.ts';
import { convertPdf } from './pdf.ts';

/** File kinds Docent converts to Markdown before reading. */
export const CONVERTED_EXTENSIONS = new Set(['.html', '.htm', '.pdf', '.docx']);

export function needsConversion(file: string): boolean {
  return CONVERTED_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/**
 * The Markdown Docent stores for an HTML, PDF or Word file (throws a ConversionError saying what is
 * wrong); `pageUrl` is where it was fetched from, if it was.
 */
export async function convertToMarkdown(file: string, bytes: Uint8Array, pageUrl?: string): Promise<string> {
  switch (path.extname(file).toLowerCase()) {
    case '.pdf':
      return convertPdf(bytes, pageUrl);
    case '.docx':
      return convertDocx(bytes, pageUrl);
    default:
      return convertHtml(new TextDecoder('utf-8').decode(bytes), pageUrl);
  }
}

export { ConversionError } from './errors.ts';
