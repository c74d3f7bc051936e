import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();

type Operation =
  | { kind: 'append'; payload: Uint8Array }
  | { kind: 'batch'; payloads: Uint8Array[] }
  | { kind: 'sync' }
  | { kind: 'reopen' }
  | { kind: 'read'; index: number };

const payloadArbitrary = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 9000 }).map((size) => new Uint8Array(size).fill(size % 251)) },
);
const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: payloadArbitrary.map((payload) => ({ kind: 'append' as const, payload })) },
  { weight: 3, arbitrary: fc.array(payloadArbitrary, { maxLength: 12 }).map((payloads) => ({ kind: 'batch' as const, payloads })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.nat().map((index) => ({ kind: 'read' as const, index })) },
);

/** The model: the payloads in order, and each one's LSN. */
interface Model {
  payloads: Uint8Array[];
  lsns: number[];
}

function expectRecords(journal: Journal, model: Model, from: number): void {
  const start = from === 0 ? 0 : model.lsns.indexOf(from) + 1;
  const records = [...journal.records({ from })];
  expect(records.map((record) => record.lsn)).toEqual(model.lsns.slice(start));
  expect(records.map((record) => Buffer.from(record.payload).toString('hex'))).toEqual(model.payloads.slice(start).map((payload) => Buffer.from(payload).toString('hex')));
}

test('random appends, batches, syncs and reopens match an array model', async () => {
  const dir = tempDir();
  let index = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(operationArbitrary, { minLength: 1, maxLength: 30 }), fc.boolean(), async (operations, direct) => {
      const path = join(dir, `wal-${index++}`);
      const options = { durability: { mode: 'explicit' } as const, direct, writeBufferBytes: 4096 };
      let journal = await Journal.open(path, options);
      const model: Model = { payloads: [], lsns: [] };
      let end = 0;
      try {
        for (const operation of operations) {
          if (operation.kind === 'append' || operation.kind === 'batch') {
            const payloads = operation.kind === 'append' ? [operation.payload] : operation.payloads;
            for (const payload of payloads) {
              end += payload.length + 12;
              model.payloads.push(payload);
              model.lsns.push(end);
            }
            const lsn = operation.kind === 'append' ? journal.append(operation.payload) : journal.appendBatch(operation.payloads);
            expect(lsn).toBe(end);
          } else if (operation.kind === 'sync') {
            expect(await journal.sync()).toBe(end);
          } else if (operation.kind === 'reopen') {
            await journal.close();
            journal = await Journal.open(path, options);
            expect(journal.recovery).toMatchObject({ tailState: 'clean-end', validBytes: end, records: model.payloads.length });
          } else {
            const from = model.lsns.length === 0 ? 0 : (model.lsns[operation.index % model.lsns.length] ?? 0);
            expectRecords(journal, model, from);
          }
          expect(journal.nextLsn).toBe(end);
        }
        expectRecords(journal, model, 0);
        const streamed: number[] = [];
        for await (const record of journal.stream()) streamed.push(record.lsn);
        expect(streamed).toEqual(model.lsns);
      } finally {
        await journal.close();
      }
    }),
    { numRuns: 60 },
  );
});
