import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type IdleProbe, startIdleProbe } from '../../src/bench/idleProbe.ts';

const now = () => performance.timeOrigin + performance.now();

describe('the idle probe the benches run beside them', () => {
  let probe: IdleProbe | undefined;
  afterEach(() => probe?.stop());

  it('reports a pause of its own process as a stall, with when it ended, and only within the asked span', async () => {
    probe = await startIdleProbe(50);
    const before = now();
    await sleep(100);
    expect(probe.stallsBetween(before, now())).toEqual([]);

    // Stopping the process is what a paused machine does to it.
    process.kill(probe.pid, 'SIGSTOP');
    await sleep(300);
    process.kill(probe.pid, 'SIGCONT');
    await sleep(100);
    const after = now();

    const stalls = probe.stallsBetween(before, after);
    expect(stalls).toHaveLength(1);
    const [ms, at] = stalls[0]!;
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(at).toBeGreaterThan(before + 300);
    expect(at).toBeLessThanOrEqual(after);
    expect(probe.stallsBetween(after, now())).toEqual([]);
  });
});
