import { Worker } from 'node:worker_threads';
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
type Pending = Map<number, { resolve: (entities: string[]) => void; reject: (error: Error) => void }>;

export function entityTaggerThread(): EntityTagger {
  let thread: { worker: Worker; pending: Pending } | undefined;
  let nextId = 0;

  function start(): { worker: Worker; pending: Pending } {
    // A plain-JavaScript entry registers tsx in the new thread before loading the TypeScript worker.
    const worker = new Worker(new URL('./tagWorker.mjs', import.meta.url));
    const pending: Pending = new Map();
    const failAll = (error: Error) => {
      for (const job of pending.values()) job.reject(error);
      pending.clear();
      if (thread?.worker === worker) thread = undefined;
    };
    worker.on('message', (reply: TagReply) => {
      const job = pending.get(reply.id);
      if (job === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if ('error' in reply) job.reject(new Error(`Tagging entities failed: ${reply.error}`));
      else job.resolve(reply.entities);
    });
    worker.on('error', failAll);
    worker.on('exit', () => failAll(new Error('The entity-tagging thread stopped')));
    return { worker, pending };
  }

  return {
    tag(texts) {
      if (texts.length === 0) return Promise.resolve([]);
      thread ??= start();
      const { worker, pending } = thread;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, texts } satisfies TagRequest);
      });
    },
    async close() {
      const stopping = thread;
      thread = undefined;
      await stopping?.worker.terminate();
    },
  };
}
