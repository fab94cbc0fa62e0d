/**
 * The body of the indexing thread (see offThread.ts): loads its own copy of the model and embeds
 * what it is sent, so the model's work never holds up the thread that answers questions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEmbedder, type EmbedderOptions } from './embedder.ts';

export type WorkerRequest = { readonly id: number; readonly texts: readonly string[] };
export type WorkerReply =
  | { readonly ready: true; readonly dimensions: number }
  | { readonly id: number; readonly progress: number }
  | { readonly id: number; readonly vectors: Float32Array }
  | { readonly id: number; readonly error: string }
  | { readonly failed: string };

const port = parentPort!;
try {
  const embedder = await loadEmbedder(workerData as EmbedderOptions);
  port.on('message', ({ id, texts }: WorkerRequest) => {
    embedder
      .embed(texts, (done) => port.postMessage({ id, progress: done } satisfies WorkerReply))
      .then((vectors) => {
        const flat = new Float32Array(vectors.length * embedder.dimensions);
        vectors.forEach((vector, row) => flat.set(vector, row * embedder.dimensions));
        port.postMessage({ id, vectors: flat } satisfies WorkerReply, [flat.buffer]);
      })
      .catch((error: unknown) => port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply));
  });
  port.postMessage({ ready: true, dimensions: embedder.dimensions } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
}
