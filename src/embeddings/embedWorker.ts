/**
 * The body of the indexing thread (see offThread.ts): loads its own copy of the model and embeds
 * what it is sent, so the model's work never holds up the thread that answers questions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { concatenated } from '../index/vectorMath.ts';
import { loadEmbedder, type EmbedderOptions } from './embedder.ts';

export type WorkerRequest = { readonly id: number; readonly texts: readonly string[]; readonly withTokens: readonly boolean[] };
/** Asks the thread to end: jobs in hand fail at their next batch, and the thread exits once none runs. */
export type StopRequest = { readonly stop: true };
export type WorkerReply =
  | { readonly ready: true; readonly dimensions: number }
  | { readonly id: number; readonly progress: number }
  /** Vectors row after row; the word-piece vectors of the texts that asked for them, with each one's piece count (-1: not asked). */
  | { readonly id: number; readonly vectors: Float32Array; readonly tokens: Float32Array; readonly tokenCounts: Int32Array }
  | { readonly id: number; readonly error: string }
  | { readonly failed: string };

const port = parentPort!;
try {
  const embedder = await loadEmbedder(workerData as EmbedderOptions);
  let stopping = false;
  let running = 0;
  const exitIfStopped = () => {
    if (stopping && running === 0) process.exit(0);
  };
  port.on('message', (request: WorkerRequest | StopRequest) => {
    if ('stop' in request) {
      stopping = true;
      exitIfStopped();
      return;
    }
    const { id, texts, withTokens } = request;
    running++;
    embedder
      .embedWithTokens(texts, withTokens, (done) => {
        // Between two batches, where no call into onnxruntime is cut short.
        if (stopping) throw new Error('The indexing thread was asked to stop.');
        port.postMessage({ id, progress: done } satisfies WorkerReply);
      })
      .then(async ({ vectors, tokens }) => {
        const flat = new Float32Array(vectors.length * embedder.dimensions);
        vectors.forEach((vector, row) => flat.set(vector, row * embedder.dimensions));
        const tokenCounts = Int32Array.from(tokens, (pieces) => (pieces === undefined ? -1 : pieces.length / embedder.dimensions));
        const pieces = await concatenated(tokens);
        port.postMessage({ id, vectors: flat, tokens: pieces, tokenCounts } satisfies WorkerReply, [flat.buffer, pieces.buffer, tokenCounts.buffer]);
      })
      .catch((error: unknown) => port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply))
      .finally(() => {
        running--;
        exitIfStopped();
      });
  });
  port.postMessage({ ready: true, dimensions: embedder.dimensions } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
}
