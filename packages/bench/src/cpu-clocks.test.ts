import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { expect, test } from 'vitest';
import { HelperThreadClock } from './cpu-clocks.js';

// A worker that, asked to, loops `iterations` times and answers with the CPU time its own
// thread spent on it, as /proc reports it. Listening keeps it alive until terminated: a
// thread that exits keeps its last reading, so the clock must read it before it goes.
const SPINNING_WORKER = `
const { parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const ownNanoseconds = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
parentPort.on('message', (iterations) => {
  const before = ownNanoseconds();
  let sum = 0;
  for (let index = 0; index < iterations; index++) sum = (sum + index * 7) % 1000003;
  parentPort.postMessage({ ran: ownNanoseconds() - before, sum });
});
`;

test('the clock counts the CPU time of a thread other than the main one', async () => {
  if (process.platform !== 'linux') {
    expect(HelperThreadClock.open()).toBeNull();
    return;
  }
  const worker = new Worker(SPINNING_WORKER, { eval: true });
  try {
    await once(worker, 'online');
    const clock = HelperThreadClock.open();
    if (clock === null) throw new Error('no per-thread CPU time in /proc/self/task');
    const before = clock.nanoseconds();
    worker.postMessage(20_000_000);
    const [{ ran }] = (await once(worker, 'message')) as [{ ran: number }];
    const after = clock.nanoseconds();
    clock.close();
    expect(ran).toBeGreaterThan(0);
    // The other helper threads can only add to it.
    expect(after - before).toBeGreaterThanOrEqual(ran);
  } finally {
    await worker.terminate();
  }
});
