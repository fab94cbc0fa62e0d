import type { Transferable, Worker } from 'node:worker_threads';

/**
 * Requests to a worker thread, each answered by one reply carrying the request's id. The thread
 * keeps the process alive only while a request waits: one left idle (its user failed before
 * asking, say) never keeps the process from exiting. When the thread stops, every request waiting
 * fails, and so does every later one.
 */
export class ThreadRequests<Reply extends { readonly id: number }> {
  private readonly waiting = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void; interim?: (reply: Reply) => boolean }>();
  private nextId = 0;
  private stoppedBy: Error | undefined;
  private exited = false;
  private whenIdle: (() => void) | undefined;

  /** `name` says in an error which thread stopped ("The shard-writing thread"). */
  constructor(
    readonly thread: Worker,
    name: string,
  ) {
    thread.unref();
    thread.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined || waiter.interim?.(reply)) return;
      this.waiting.delete(reply.id);
      waiter.resolve(reply);
      if (this.waiting.size > 0) return;
      thread.unref();
      this.whenIdle?.();
    });
    const stopped = (error: Error) => {
      this.stoppedBy ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    thread.on('error', stopped);
    thread.on('exit', (code) => {
      this.exited = true;
      stopped(new Error(`${name} stopped (code ${code}).`));
    });
  }

  /** Whether the thread has stopped: a user that can start another should. */
  get stopped(): boolean {
    return this.stoppedBy !== undefined;
  }

  /**
   * Sends the request `build` makes of a fresh id (handing over `transfer`), and waits for its
   * reply: the first for which `interim` (given each, to report progress, say) returns false.
   */
  ask(build: (id: number) => object, transfer: readonly Transferable[] = [], interim?: (reply: Reply) => boolean): Promise<Reply> {
    if (this.stoppedBy) return Promise.reject(this.stoppedBy);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, interim });
      this.thread.ref();
      this.thread.postMessage(build(id), [...transfer]);
    });
  }

  /** Ends the thread now; requests still waiting fail. */
  async close(): Promise<void> {
    await this.thread.terminate();
  }

  /**
   * Sends `message`, on which the thread is to end its work in hand where it safely can and exit,
   * and waits for it to; ends it outright after `graceMs`. Ending a thread outright in the middle
   * of a native call (onnxruntime's, say) can abort the whole process.
   */
  async stop(message: object, graceMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.thread.once('exit', () => resolve()));
    this.thread.postMessage(message);
    const deadline = setTimeout(() => void this.thread.terminate(), graceMs);
    await exited;
    clearTimeout(deadline);
  }

  /** Ends the thread once the requests already sent have their replies. */
  async closeWhenIdle(): Promise<void> {
    if (this.waiting.size === 0) await this.thread.terminate();
    else this.whenIdle = () => void this.thread.terminate();
  }
}

/**
 * A thread its user starts on first use (`start`), and again after it stopped, so that one failure
 * does not fail every later request; `close` ends the one running.
 */
export function restartingThread<Reply extends { readonly id: number }>(start: () => ThreadRequests<Reply>) {
  let running: ThreadRequests<Reply> | undefined;
  return {
    requests(): ThreadRequests<Reply> {
      if (running === undefined || running.stopped) running = start();
      return running;
    },
    async close(): Promise<void> {
      const stopping = running;
      running = undefined;
      await stopping?.close();
    },
  };
}
