import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { recordingIo, type IoLog } from './support/recording-io.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

/** The furthest byte that a finished fdatasync is known to cover. */
function coveredByFinishedSync(log: IoLog): number {
  return log.coveredThrough.reduce((max, covered) => Math.max(max, covered), 0);
}

test('syncThrough resolves only after an fdatasync that began after every byte below the LSN was written', async () => {
  const dir = tempDir();
  let index = 0;
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), bytes: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ kind: fc.constant('batch' as const), sizes: fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 8 }) }),
    fc.record({ kind: fc.constant('syncThrough' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('yield' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (operations) => {
      const { io, log } = recordingIo();
      const journal = await Journal.open(join(dir, `wal-${index++}`), { durability, io, writeBufferBytes: 4096 });
      const waits: Promise<void>[] = [];
      for (const step of operations) {
        if (step.kind === 'append') journal.append(new Uint8Array(step.bytes));
        else if (step.kind === 'batch') journal.appendBatch(step.sizes.map((size) => new Uint8Array(size)));
        else if (step.kind === 'yield') await new Promise<void>((resolve) => setImmediate(resolve));
        else {
          const lsn = Math.floor(journal.nextLsn * step.fraction);
          waits.push(
            journal.syncThrough(lsn).then((durable) => {
              expect(durable).toBeGreaterThanOrEqual(lsn);
              if (lsn > 0) expect(coveredByFinishedSync(log)).toBeGreaterThanOrEqual(lsn);
              // Never claimed durable: bytes no finished fdatasync covered.
              expect(journal.syncedLsn).toBeLessThanOrEqual(coveredByFinishedSync(log));
            }),
          );
        }
        expect(journal.syncedLsn).toBeLessThanOrEqual(coveredByFinishedSync(log));
      }
      await Promise.all(waits);
      await journal.close();
    }),
    { numRuns: 40 },
  );
});

test('concurrent waiters share one fdatasync', async () => {
  const { io, log } = recordingIo();
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability, io });
  const waits: Promise<number>[] = [];
  for (let i = 0; i < 256; i++) waits.push(journal.syncThrough(journal.append(new Uint8Array(100))));
  const durable = await Promise.all(waits);
  expect(durable.every((value) => value === journal.nextLsn)).toBe(true);
  expect(log.datasyncsFinished).toBe(1);
  expect(log.writes).toBe(1);
  expect(journal.stats().flushes).toBe(1);
  await journal.close();
});

test('appends made while an fdatasync runs wait for the next one', async () => {
  let journal: Journal | undefined;
  let second: Promise<number> | undefined;
  const { io, log } = recordingIo({
    onDatasyncStart: (seen) => {
      if (seen.datasyncsStarted !== 1 || journal === undefined) return;
      // The first flush has written its bytes and its fdatasync is starting now.
      second = journal.syncThrough(journal.append(new Uint8Array(10))).then((durable) => {
        expect(log.datasyncsFinished).toBe(2);
        return durable;
      });
    },
  });
  journal = await Journal.open(join(tempDir(), 'wal'), { durability, io });
  expect(await journal.syncThrough(journal.append(new Uint8Array(10)))).toBe(22);
  expect(await second).toBe(44);
  expect(log.coveredThrough).toEqual([22, 44]);
  await journal.close();
});

test('a batch costs one write and one fdatasync', async () => {
  const { io, log } = recordingIo();
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability, io });
  const payloads = Array.from({ length: 1000 }, () => new Uint8Array(100));
  await journal.syncThrough(journal.appendBatch(payloads));
  expect(log).toMatchObject({ writes: 1, datasyncsFinished: 1 });
  await journal.close();
});
