/** Per-user sliding-window rate limit: at most `perMinute` questions in any 60 s. */
export class RateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

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

/** Bounds how many questions are answered at once, so a burst cannot starve the bot. */
export class ConcurrencyGate {
  private active = 0;

  constructor(private readonly max: number) {}

  /** Runs `work` if a slot is free; returns undefined at once when all are taken. */
  async tryRun<T>(work: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.active >= this.max) return undefined;
    this.active++;
    try {
      return { value: await work() };
    } finally {
      this.active--;
    }
  }
}
