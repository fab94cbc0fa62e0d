import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/index/vectra/threadPriority.ts', import.meta.url));

describe('lowerThreadPriority', () => {
  it.runIf(process.platform === 'linux')('lowers the calling thread alone, not the rest of the process', () => {
    // In a process of its own, so the test runner's threads keep their priority.
    const script = `
      import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
      const { lowerThreadPriority } = await import(${JSON.stringify(MODULE)});
      const self = readlinkSync('/proc/thread-self').split('/').pop();
      // Field 19 of a thread's stat line is its niceness (counted after the command name's closing parenthesis).
      const nice = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
      const before = nice(self);
      const lowered = lowerThreadPriority(19);
      const others = readdirSync('/proc/self/task').filter((tid) => tid !== self).map(nice);
      console.log(JSON.stringify({ lowered, before, self: nice(self), others }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { lowered, before, self, others } = JSON.parse(out.trim().split('\n').pop()!);
    expect(lowered).toBe(true);
    expect(before).toBeLessThan(19);
    expect(self).toBe(19);
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((niceness: number) => niceness === before)).toBe(true);
  });
});
