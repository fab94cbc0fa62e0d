import { describe, expect, it } from 'vitest';
import { termCounts, termCountsInTurns } from '../../src/index/keywords.ts';
import { turnsOf } from '../../src/index/store.ts';
import { concatenated } from '../../src/index/vectorMath.ts';

const busyFor = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('long loops on the answering thread, in turns', () => {
  it('give the event loop a turn once a turn has run its length, and not before', async () => {
    let othersRan = false;
    setImmediate(() => {
      othersRan = true;
    });
    const turn = turnsOf(20);
    busyFor(5);
    expect(turn()).toBeUndefined();
    expect(othersRan).toBe(false);
    busyFor(20);
    await turn();
    expect(othersRan).toBe(true);
    // A new turn starts after each yield.
    expect(turn()).toBeUndefined();
  });

  it('count keywords as counting in one piece does', async () => {
    const sentences = Array.from({ length: 300 }, (_, i) => ({
      text: `Talks in Istanbul, round ${i % 7}: the Russian delegation's ${i % 3 ? 'embassy' : 'embassies'}.`,
    }));
    expect(await termCountsInTurns(sentences)).toEqual(termCounts(sentences));
  });

  it('concatenate arrays end to end, leaving out the missing, and wait on the caller after each', async () => {
    const steps: number[] = [];
    const joined = await concatenated([Float32Array.of(1, 2), undefined, Float32Array.of(3)], () => {
      steps.push(steps.length);
      return undefined;
    });
    expect([...joined]).toEqual([1, 2, 3]);
    expect(steps).toEqual([0, 1]);
  });
});
