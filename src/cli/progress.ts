import cliProgress from 'cli-progress';
import type { ReindexProgress } from '../docent.ts';

/** Renders re-index progress on stderr (stdout stays clean for --json output). */
export function progressRenderer(): { onProgress: (progress: ReindexProgress) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress(progress) {
      if (progress.phase === 'reading') {
        process.stderr.write('Reading sources…\n');
      } else if (progress.phase === 'embedding') {
        if (bar === undefined) {
          process.stderr.write(`Embedding ${progress.total} chunks and sentences from ${progress.sources} source(s)\n`);
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: '  {bar} {percentage}% | {value}/{total} texts | ETA {eta_formatted}', hideCursor: false, etaBuffer: 50 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(progress.total, 0);
        }
        bar.update(progress.done);
      } else {
        bar?.stop();
        bar = undefined;
        process.stderr.write('Writing the new index…\n');
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
