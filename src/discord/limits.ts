import PQueue from 'p-queue';

/** Per-user sliding-window rate limit: at most `perMinute` questions in any 60 s. */
export class RateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes back the latest attempt: a question turned away for Docent's own reasons costs the user nothing. */
  refund(userId: string): void {
    this.recent.get(userId)?.pop();
  }

  /** Records an attempt; returns the seconds to wait if over the limit, else 0. */
  take(userId: string): number {
    const now = this.now();
    const windowStart = now - 60_000;
    const times = (this.recent.get(userId) ?? []).filter((time) => time > windowStart);
    if (times.length >= this.perMinute) {
      this.recent.set(userId, times);
      return Math.max(1, Math.ceil((times[0]! - windowStart) / 1000));
    }
    times.push(now);
    this.recent.set(userId, times);
    return 0;
  }
}

/**
 * Questions are answered in turn: `concurrency` at once, the rest waiting in order. Only when
 * `maxWaiting` are already waiting is a question turned away, so a burst is answered rather
 * than refused.
 */
export class AnswerQueue {
  private readonly queue: PQueue;

  constructor(
    concurrency: number,
    private readonly maxWaiting: number,
  ) {
    this.queue = new PQueue({ concurrency });
  }

  /** True when a new question would have to be turned away. */
  get full(): boolean {
    return this.queue.size >= this.maxWaiting;
  }

  /** Questions waiting for their turn (not counting those being answered). */
  get waiting(): number {
    return this.queue.size;
  }

  /** Runs `work` in its turn (check `full` first: the queue does not refuse). */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.add(work, { throwOnTimeout: true });
  }
}
