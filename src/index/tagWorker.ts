/** The body of the entity-tagging thread (see tagThread.ts). */
import { parentPort } from 'node:worker_threads';
import { entityMentions } from '../retrieval/answerTypes.ts';

export type TagRequest = { readonly id: number; readonly texts: readonly string[] };
export type TagReply = { readonly id: number; readonly entities: string[] } | { readonly id: number; readonly error: string };

const port = parentPort!;
port.on('message', ({ id, texts }: TagRequest) => {
  try {
    port.postMessage({ id, entities: texts.map(entityMentions) } satisfies TagReply);
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies TagReply);
  }
});
