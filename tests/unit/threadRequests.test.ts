import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { restartingThread, ThreadRequests } from '../../src/index/threadRequests.ts';

/**
 * A thread that answers `{ id, wait, value }` with `{ id, doubled }` after `wait` ms, first reporting
 * `{ id, step }` for each of `steps`; exits (code 3) when sent `{ exit: true }`, and when sent
 * `{ stop: true, obey }` exits (code 0) only if `obey`.
 */
const doubler = () =>
  new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => {
       if (m.exit) process.exit(3);
       if (m.stop) return m.obey && process.exit(0);
       for (let step = 0; step < (m.steps ?? 0); step++) parentPort.postMessage({ id: m.id, step });
       setTimeout(() => parentPort.postMessage({ id: m.id, doubled: m.value * 2 }), m.wait);
     });`,
    { eval: true },
  );

type Doubled = { readonly id: number; readonly doubled: number; readonly step?: number };

describe('ThreadRequests', () => {
  it('gives each request its own reply, whatever order the replies come in', async () => {
    const requests = new ThreadRequests<Doubled>(doubler(), 'The doubling thread');
    try {
      const slow = requests.ask((id) => ({ id, wait: 50, value: 1 }));
      const fast = requests.ask((id) => ({ id, wait: 0, value: 2 }));
      expect((await fast).doubled).toBe(4);
      expect((await slow).doubled).toBe(2);
    } finally {
      await requests.close();
    }
  });

  it('passes the replies a request calls interim to it, and settles it with the first that is not', async () => {
    const requests = new ThreadRequests<Doubled>(doubler(), 'The doubling thread');
    try {
      const steps: number[] = [];
      const reply = await requests.ask(
        (id) => ({ id, wait: 0, value: 4, steps: 3 }),
        [],
        (interim) => interim.step !== undefined && steps.push(interim.step) > 0,
      );
      expect(steps).toEqual([0, 1, 2]);
      expect(reply.doubled).toBe(8);
    } finally {
      await requests.close();
    }
  });

  it('fails the requests waiting and every later one when the thread stops, naming the thread', async () => {
    const requests = new ThreadRequests<Doubled>(doubler(), 'The doubling thread');
    const waiting = requests.ask((id) => ({ id, wait: 10_000, value: 1 }));
    void requests.ask(() => ({ exit: true })).catch(() => undefined);
    await expect(waiting).rejects.toThrow('The doubling thread stopped (code 3).');
    expect(requests.stopped).toBe(true);
    await expect(requests.ask((id) => ({ id, wait: 0, value: 1 }))).rejects.toThrow('The doubling thread stopped (code 3).');
  });

  it('ends the thread only once the requests already sent have their replies, when asked to close when idle', async () => {
    const requests = new ThreadRequests<Doubled>(doubler(), 'The doubling thread');
    const reply = requests.ask((id) => ({ id, wait: 30, value: 5 }));
    const exited = new Promise((resolve) => requests.thread.once('exit', resolve));
    await requests.closeWhenIdle();
    expect((await reply).doubled).toBe(10);
    await exited;
    expect(requests.stopped).toBe(true);
  });

  it('stops a thread by asking it to, and ends one that does not stop within the grace period', async () => {
    const obeying = new ThreadRequests<Doubled>(doubler(), 'The doubling thread');
    const obeyed = new Promise((resolve) => obeying.thread.once('exit', resolve));
    await obeying.stop({ stop: true, obey: true }, 60_000);
    expect(await obeyed).toBe(0);
    await obeying.stop({ stop: true, obey: true }, 60_000);

    const stubborn = new ThreadRequests<Doubled>(doubler(), 'The doubling thread');
    // Running first (a thread ended before it has started exits with code 0), as a real one is by the time it is stopped.
    await stubborn.ask((id) => ({ id, wait: 0, value: 1 }));
    const ended = new Promise((resolve) => stubborn.thread.once('exit', resolve));
    await stubborn.stop({ stop: true, obey: false }, 50);
    // Ended outright: terminate() makes the thread exit with code 1.
    expect(await ended).toBe(1);
  });

  it('starts a thread again once the one it started has stopped, and not before', async () => {
    const thread = restartingThread(() => new ThreadRequests<Doubled>(doubler(), 'The doubling thread'));
    try {
      const first = thread.requests();
      expect(thread.requests()).toBe(first);
      const exited = new Promise((resolve) => first.thread.once('exit', resolve));
      void first.ask(() => ({ exit: true })).catch(() => undefined);
      await exited;
      const second = thread.requests();
      expect(second).not.toBe(first);
      expect((await second.ask((id) => ({ id, wait: 0, value: 3 }))).doubled).toBe(6);
    } finally {
      await thread.close();
    }
  });
});
