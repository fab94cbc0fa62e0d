import { Worker } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './embedWorker.ts';
import type { Embedder, EmbedderOptions } from './embedder.ts';

/**
 * An embedder whose model runs on a thread of its own. onnxruntime computes a batch on the
 * calling thread, a second or more for a batch of chunks, so a re-index embedding on the bot's
 * thread would hold every answer, heartbeat and lock refresh that long. The indexing copy of the
 * model lives in a worker; `base` (the copy that embeds questions) counts tokens, which chunking
 * needs at once and is cheap. The worker starts on first use and ends with `dispose`.
 */
export function offThreadEmbedder(base: Embedder, options: EmbedderOptions): Embedder {
  let worker: Promise<Worker> | undefined;
  let nextId = 0;
  const pending = new Map<
    number,
    { resolve: (result: Embedded) => void; reject: (error: Error) => void; onProgress?: (done: number, total: number) => void; total: number }
  >();

  function start(): Promise<Worker> {
    // A plain-JavaScript entry registers tsx in the new thread before loading the TypeScript worker.
    const thread = new Worker(new URL('./embedWorker.mjs', import.meta.url), { workerData: { ...options, onEvent: undefined } });
    return new Promise((resolve, reject) => {
      thread.on('message', (reply: WorkerReply) => {
        if ('ready' in reply) {
          thread.unref();
          resolve(thread);
        } else if ('failed' in reply) reject(new Error(`The indexing thread could not load the model: ${reply.failed}`));
        else {
          const job = pending.get(reply.id);
          if (!job) return;
          if ('progress' in reply) job.onProgress?.(reply.progress, job.total);
          else {
            pending.delete(reply.id);
            if (pending.size === 0) thread.unref();
            if ('error' in reply) job.reject(new Error(reply.error));
            else job.resolve({ vectors: rows(reply.vectors, base.dimensions), tokens: pieces(reply.tokens, reply.tokenCounts, base.dimensions) });
          }
        }
      });
      thread.on('error', (error) => {
        reject(error);
        for (const job of pending.values()) job.reject(error);
        pending.clear();
        worker = undefined;
      });
    });
  }

  const embedWithTokens: Embedder['embedWithTokens'] = async (texts, withTokens, onProgress) => {
    if (texts.length === 0) return { vectors: [], tokens: [] };
    worker ??= start();
    const thread = await worker;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, onProgress, total: texts.length });
      // A job in flight keeps the process alive, as embedding on this thread would.
      thread.ref();
      thread.postMessage({ id, texts, withTokens: [...withTokens] } satisfies WorkerRequest);
    });
  };

  return {
    modelId: base.modelId,
    dimensions: base.dimensions,
    maxTokens: base.maxTokens,
    countTokens: (text) => base.countTokens(text),
    embed: async (texts, onProgress) => (await embedWithTokens(texts, [], onProgress)).vectors,
    embedWithTokens,
    async dispose() {
      const started = worker;
      worker = undefined;
      if (started) await (await started.catch(() => undefined))?.terminate();
    },
  };
}

type Embedded = Awaited<ReturnType<Embedder['embedWithTokens']>>;

/** Each text's word-piece vectors as views into the reply, or undefined where none were asked for. */
function pieces(flat: Float32Array, counts: Int32Array, dimensions: number): (Float32Array | undefined)[] {
  let at = 0;
  return Array.from(counts, (count) => (count < 0 ? undefined : flat.subarray(at, (at += count * dimensions))));
}

/** Views into the thread's reply, not copies: a group of 2,048 vectors copied into arrays held the event loop for over 100 ms. */
function rows(flat: Float32Array, dimensions: number): Float32Array[] {
  return Array.from({ length: flat.length / dimensions }, (_, row) => flat.subarray(row * dimensions, (row + 1) * dimensions));
}
