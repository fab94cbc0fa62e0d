import { Worker } from 'node:worker_threads';
import { restartingThread, ThreadRequests } from './threadRequests.ts';
import type { TagReply, TagRequest } from './tagWorker.ts';

/** Tags sentences with the entities they mention (`answerTypes.entityMentions`), one string per text. */
export interface EntityTagger {
  tag(texts: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Entity tagging on a thread of its own, for a process that answers questions while it re-indexes
 * (the bot). Tagged on the answering thread, one long sentence holds it for tens of milliseconds,
 * whatever the turn it is given: a CPU profile of the answering thread while the bot's bench
 * re-indexed the 48 eval articles (stalls of 50 to 135 ms) found tagging the largest of its work.
 * The thread starts on first use and holds the process open only while a request waits.
 */
export function entityTaggerThread(): EntityTagger {
  // A plain-JavaScript entry registers tsx in the new thread before loading the TypeScript worker.
  const thread = restartingThread(() => new ThreadRequests<TagReply>(new Worker(new URL('./tagWorker.mjs', import.meta.url)), 'The entity-tagging thread'));
  return {
    async tag(texts) {
      if (texts.length === 0) return [];
      const reply = await thread.requests().ask((id) => ({ id, texts }) satisfies TagRequest);
      if ('error' in reply) throw new Error(`Tagging entities failed: ${reply.error}`);
      return reply.entities;
    },
    close: () => thread.close(),
  };
}
