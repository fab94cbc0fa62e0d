import { Worker } from 'node:worker_threads';
import { ThreadRequests } from '../index/threadRequests.ts';
import type { StopRequest, WorkerReply, WorkerRequest } from './embedWorker.ts';
import type { Embedder, EmbedderOptions } from './embedder.ts';

/**
 * An embedder whose model runs on a thread of its own. onnxruntime computes a batch on the
 * calling thread, a second or more for a batch of chunks, so a re-index embedding on the bot's
 * thread would hold every answer, heartbeat and lock refresh that long. The indexing copy of the
 * model lives in a worker; `base` (the copy that embeds questions) counts tokens, which chunking
 * needs at once and is cheap. The worker starts on first use and ends with `dispose`.
 */
export function offThreadEmbedder(base: Embedder, options: EmbedderOptions): Embedder {
  let thread: Promise<ThreadRequests<JobReply>> | undefined;

  /** The thread, once its copy of the model has loaded; started again if it stopped or failed to start. */
  async function running(): Promise<ThreadRequests<JobReply>> {
    const current = thread;
    if (current !== undefined && (await usable(current))) return current;
    // Callers that found the same thread unusable start one new thread between them.
    if (thread === current) thread = start();
    return thread!;
  }

  function start(): Promise<ThreadRequests<JobReply>> {
    // A plain-JavaScript entry registers tsx in the new thread before loading the TypeScript worker.
    const worker = new Worker(new URL('./embedWorker.mjs', import.meta.url), { workerData: { ...options, onEvent: undefined } });
    return new Promise<ThreadRequests<JobReply>>((resolve, reject) => {
      worker.once('message', (reply: WorkerReply) => {
        if ('ready' in reply) resolve(new ThreadRequests(worker, 'The indexing thread'));
        else if ('failed' in reply) reject(new Error(`The indexing thread could not load the model: ${reply.failed}`));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The indexing thread stopped (code ${code}) while loading the model.`)));
    });
  }

  const embedWithTokens: Embedder['embedWithTokens'] = async (texts, withTokens, onProgress) => {
    if (texts.length === 0) return { vectors: [], tokens: [] };
    const requests = await running();
    const reply = await requests.ask(
      (id) => ({ id, texts, withTokens: [...withTokens] }) satisfies WorkerRequest,
      [],
      (interim) => {
        if (!('progress' in interim)) return false;
        onProgress?.(interim.progress, texts.length);
        return true;
      },
    );
    if ('error' in reply) throw new Error(reply.error);
    if ('progress' in reply) throw new Error('The indexing thread ended a job with a progress report');
    return { vectors: rows(reply.vectors, base.dimensions), tokens: pieces(reply.tokens, reply.tokenCounts, base.dimensions) };
  };

  return {
    modelId: base.modelId,
    dimensions: base.dimensions,
    maxTokens: base.maxTokens,
    countTokens: (text) => base.countTokens(text),
    embed: async (texts, onProgress) => (await embedWithTokens(texts, [], onProgress)).vectors,
    embedWithTokens,
    async dispose() {
      const started = thread;
      thread = undefined;
      await (await started?.catch(() => undefined))?.stop({ stop: true } satisfies StopRequest, STOP_GRACE_MS);
    },
  };
}

/**
 * How long `dispose` lets the thread finish the batch in hand (a second or two) before ending it
 * outright: the bot's shutdown must be over within its process manager's grace period.
 */
const STOP_GRACE_MS = 5_000;

/** Whether a thread started earlier loaded its model and has not stopped since. */
const usable = (started: Promise<ThreadRequests<JobReply>>): Promise<boolean> =>
  started.then(
    (requests) => !requests.stopped,
    () => false,
  );

/** A reply to one job (the thread's other messages say whether its model loaded). */
type JobReply = Extract<WorkerReply, { readonly id: number }>;

/** Each text's word-piece vectors as views into the reply, or undefined where none were asked for. */
function pieces(flat: Float32Array, counts: Int32Array, dimensions: number): (Float32Array | undefined)[] {
  let at = 0;
  return Array.from(counts, (count) => (count < 0 ? undefined : flat.subarray(at, (at += count * dimensions))));
}

/** Views into the thread's reply, not copies: a group of 2,048 vectors copied into arrays held the event loop for over 100 ms. */
function rows(flat: Float32Array, dimensions: number): Float32Array[] {
  return Array.from({ length: flat.length / dimensions }, (_, row) => flat.subarray(row * dimensions, (row + 1) * dimensions));
}
