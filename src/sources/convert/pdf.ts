import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { ConversionError } from './errors.ts';
import { dayOf, markdownFile } from './markdown.ts';
import { pageMarker } from '../pages.ts';

/** A PDF's text as a Markdown file, page by page (text-only PDFs; a scanned page has no text to read). */
export async function convertPdf(bytes: Uint8Array, url?: string): Promise<string> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given, so it gets a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes));
  } catch (error) {
    throw new ConversionError(`is not a readable PDF (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    const { info } = await getMeta(pdf).catch(() => ({ info: {} as Record<string, unknown> }));
    const { text } = await extractText(pdf, { mergePages: false });
    const pages = text.map((page, index) => `${pageMarker(index + 1)}\n\n${page.replace(/[ \t]+\n/g, '\n').trim()}`);
    if (text.every((page) => page.trim() === '')) throw new ConversionError('is a PDF without text (a scan? Docent reads text, not images)');
    const string = (key: string) => (typeof info[key] === 'string' && (info[key] as string).trim() !== '' ? (info[key] as string).trim() : undefined);
    return markdownFile({ title: string('Title'), date: dayOf(string('CreationDate')), author: string('Author'), url, format: 'pdf' }, pages.join('\n\n'));
  } finally {
    await pdf.loadingTask.destroy();
  }
}
