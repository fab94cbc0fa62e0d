import { paragraphSpans, sentenceSpans } from './sentences.ts';
import type { Chunk, ChunkOptions, ChunkedSource, Span } from './types.ts';

/** Bump when chunk boundaries would come out differently, so indexes built before are rebuilt. */
export const CHUNKER_VERSION = 7;

/** BERT-style tokenizers add [CLS] and [SEP] around every input. */
const SPECIAL_TOKENS = 2;

/**
 * Packs each paragraph's sentences into chunks that fit the model, never crossing a paragraph
 * break, repeating the last `overlapSentences` sentences of a chunk at the start of the next.
 * A single sentence longer than the limit becomes a chunk on its own (the model reads its start).
 */
export function chunkSource(sourceId: string, original: string, bodyStart: number, options: ChunkOptions): ChunkedSource {
  // Old Mac files end lines with a lone CR. Read as line breaks for finding paragraphs and
  // sentences; one character for one keeps every offset valid in the original text.
  const text = original.replace(/\r(?!\n)/g, '\n');
  const sentences: Span[] = [];
  const chunks: Chunk[] = [];
  const budget = options.maxTokens - SPECIAL_TOKENS;
  for (const paragraph of paragraphSpans(text, bodyStart)) {
    const first = sentences.length;
    // One at a time: spreading a paragraph of 100,000 sentences into push overflows the call stack.
    for (const sentence of sentenceSpans(text, paragraph)) sentences.push(sentence);
    // Word pieces never span whitespace, so a run of sentences costs the sum of its sentences.
    const costs = sentences.slice(first).map((s) => options.countTokens(text.slice(s.start, s.end)) - SPECIAL_TOKENS);
    let start = first;
    while (start < sentences.length) {
      let end = start + 1;
      let used = costs[start - first]!;
      while (end < sentences.length && used + costs[end - first]! <= budget) used += costs[end++ - first]!;
      chunks.push({
        sourceId,
        index: chunks.length,
        start: sentences[start]!.start,
        end: sentences[end - 1]!.end,
        firstSentence: start,
        lastSentence: end - 1,
      });
      if (end >= sentences.length) break;
      start = Math.max(start + 1, end - options.overlapSentences);
    }
  }
  return { sentences, chunks };
}
