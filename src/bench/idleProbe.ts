import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A process that does nothing but keep time beside a bench. When it is late, the whole machine
 * was (the virtual machine paused, the host busy): at a million sentences an idle probe stalled
 * 124 ms within six seconds of the store bench's longest write stall, 114 ms, which had come while
 * the bench's thread had nothing to do. A stall the probe shares is the machine's, not Docent's.
 */
export interface IdleProbe {
  readonly pid: number;
  /** The probe's stalls of `listedMs` or more that ended between two `performance.timeOrigin + performance.now()` times, as [ms, when]. */
  stallsBetween(from: number, to: number): [number, number][];
  stop(): void;
}

// Plain JavaScript, run with `node -e`: nothing to load, so the probe starts in a few milliseconds.
const PROBE = `
const listed = Number(process.argv[1]);
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const late = now - last - 10;
  last = now;
  if (late >= listed) process.stdout.write(\`\${(performance.timeOrigin + now).toFixed(0)} \${late.toFixed(0)}\\n\`);
}, 10);
process.stdout.write('ready\\n');
process.on('disconnect', () => process.exit(0));
`;

/** Starts the probe; resolves once it ticks. It ends with `stop()` or when this process does. */
export function startIdleProbe(listedMs: number): Promise<IdleProbe> {
  const child: ChildProcess = spawn(process.execPath, ['-e', PROBE, String(listedMs)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const stalls: [number, number][] = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        resolve({
          pid: child.pid!,
          stallsBetween: (from, to) => stalls.filter(([, at]) => at >= from && at <= to),
          stop: () => child.kill(),
        });
        return;
      }
      const [at, ms] = line.split(' ').map(Number);
      stalls.push([ms!, at!]);
    });
  });
}
