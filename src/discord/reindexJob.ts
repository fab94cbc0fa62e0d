import type { Docent, ReindexProgress, ReindexSummary } from '../docent.ts';

/**
 * At most one re-index at a time in this process, running in the background; anyone may ask
 * how the running one is doing. Questions keep being answered from the previous index meanwhile.
 */
export class ReindexJob {
  private running: Promise<ReindexSummary> | undefined;
  private latest: ReindexProgress | undefined;
  private startedAt = 0;

  constructor(private readonly docent: Pick<Docent, 'reindex'>) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Starts a re-index, or returns the running one (started: false). */
  start(): { started: boolean; done: Promise<ReindexSummary> } {
    if (this.running) return { started: false, done: this.running };
    this.startedAt = Date.now();
    this.latest = { phase: 'reading' };
    this.running = this.docent.reindex({ onProgress: (progress) => (this.latest = progress) }).finally(() => {
      this.running = undefined;
    });
    return { started: true, done: this.running };
  }

  status(): string {
    const seconds = Math.round((Date.now() - this.startedAt) / 1000);
    const progress = this.latest;
    if (!this.running || !progress) return 'No re-index is running.';
    if (progress.phase === 'embedding') {
      const percent = progress.total === 0 ? 100 : Math.floor((100 * progress.done) / progress.total);
      return `Re-indexing: embedding ${progress.done}/${progress.total} texts from ${progress.sources} source(s) (${percent}%, ${seconds} s so far).`;
    }
    return progress.phase === 'reading' ? `Re-indexing: reading sources (${seconds} s so far).` : `Re-indexing: writing the new index (${seconds} s so far).`;
  }
}
