import { statSync, truncateSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import type { ConditionalBatchOperation } from '../src/index.js';
import { LOG_HEADER_FRAME_BYTES } from '../src/format.js';
import { expectCode, logPath, temporaryDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;
const keyOf = fc.constantFrom('a', 'b', 'c');

/** Which seq a condition names: the key's current one, or one that is stale or never was. */
const seqChoice = fc.oneof(fc.constant('current' as const), fc.integer({ min: 1, max: 30 }));

type Command =
  | { kind: 'put'; key: string }
  | { kind: 'del'; key: string }
  | { kind: 'put-if-absent'; key: string }
  | { kind: 'put-if-seq'; key: string; seq: 'current' | number }
  | { kind: 'delete-if-seq'; key: string; seq: 'current' | number }
  | { kind: 'batch'; operations: { key: string; del: boolean; condition: 'none' | 'absent' | 'current' | number }[] }
  | { kind: 'maintain'; task: 'checkpoint' | 'compact' | 'reopen' };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: keyOf }),
  fc.record({ kind: fc.constant('del' as const), key: keyOf }),
  fc.record({ kind: fc.constant('put-if-absent' as const), key: keyOf }),
  fc.record({ kind: fc.constant('put-if-seq' as const), key: keyOf, seq: seqChoice }),
  fc.record({ kind: fc.constant('delete-if-seq' as const), key: keyOf, seq: seqChoice }),
  fc.record({
    kind: fc.constant('batch' as const),
    operations: fc.array(fc.record({ key: keyOf, del: fc.boolean(), condition: fc.oneof(fc.constantFrom('none' as const, 'absent' as const, 'current' as const), fc.integer({ min: 1, max: 30 })) }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('maintain' as const), task: fc.constantFrom('checkpoint' as const, 'compact' as const, 'reopen' as const) }),
);

type Model = Map<string, { value: string; seq: number }>;

/** Runs one write against the store and the model alike, checking that it was written exactly when the model says it applies. */
function write(kv: WalKv<string>, model: Model, next: Exclude<Command, { kind: 'maintain' }>, step: number): void {
  const value = `v${step}`;
  const seqOf = (key: string, choice: 'current' | number): number => (choice === 'current' ? (model.get(key)?.seq ?? 1) : choice);
  const holds = (key: string, condition: 'none' | 'absent' | number): boolean =>
    condition === 'none' ? true : condition === 'absent' ? !model.has(key) : model.get(key)?.seq === condition;
  if (next.kind === 'batch') {
    const operations = next.operations.map(({ key, del, condition }) => {
      const resolved = condition === 'current' ? seqOf(key, condition) : condition;
      const conditionOf = resolved === 'none' ? {} : resolved === 'absent' ? (del ? {} : { ifAbsent: true }) : { ifSeq: resolved };
      return { ...(del ? { type: 'del' as const, key } : { type: 'put' as const, key, value }), ...conditionOf, resolved: del && resolved === 'absent' ? ('none' as const) : resolved };
    });
    const applies = operations.every((operation) => holds(operation.key, operation.resolved));
    const seq = kv.batch(operations.map(({ resolved: _resolved, ...operation }) => operation as ConditionalBatchOperation<string>));
    expect(seq !== null).toBe(applies);
    if (seq === null) return;
    operations.forEach((operation, i) => {
      if (operation.type === 'del') model.delete(operation.key);
      else model.set(operation.key, { value, seq: seq - operations.length + 1 + i });
    });
    return;
  }
  let seq: number | null;
  let applies = true;
  if (next.kind === 'put') seq = kv.put(next.key, value);
  else if (next.kind === 'del') seq = kv.delete(next.key);
  else if (next.kind === 'put-if-absent') {
    applies = !model.has(next.key);
    seq = kv.putIfAbsent(next.key, value);
  } else {
    const wanted = seqOf(next.key, next.seq);
    applies = model.get(next.key)?.seq === wanted;
    seq = next.kind === 'put-if-seq' ? kv.putIfSeq(next.key, value, wanted) : kv.deleteIfSeq(next.key, wanted);
  }
  expect(seq !== null).toBe(applies);
  if (seq === null) return;
  if (next.kind === 'del' || next.kind === 'delete-if-seq') model.delete(next.key);
  else model.set(next.key, { value, seq });
}

function stateOf(kv: WalKv<string>): string {
  return JSON.stringify([...kv.entries()].map(([key]) => [key, kv.get(key), kv.seqOf(key)]));
}

function modelState(model: Model): string {
  return JSON.stringify([...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, { value, seq }]) => [key, value, seq]));
}

describe('conditional writes: putIfAbsent, putIfSeq, deleteIfSeq and conditions in batches', () => {
  it('write exactly when their condition holds of a model, through checkpoints, compactions and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
        const dir = temporaryDir();
        const options = { durability: EXPLICIT, valueEncoding: 'utf8' as const, checkpointEveryBytes: Infinity };
        let kv = await WalKv.open(dir, options);
        const model: Model = new Map();
        try {
          for (const [step, next] of commands.entries()) {
            if (next.kind !== 'maintain') write(kv, model, next, step);
            else if (next.task === 'checkpoint') await kv.checkpoint();
            else if (next.task === 'compact') await kv.compact();
            else {
              await kv.close();
              kv = await WalKv.open(dir, options);
            }
            expect(stateOf(kv)).toBe(modelState(model));
          }
        } finally {
          await kv.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a conditional batch is all or nothing across a crash: a log cut anywhere reopens as the state after a prefix of the writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command.filter((next) => next.kind !== 'maintain'), { minLength: 1, maxLength: 25 }), fc.double({ min: 0, max: 1, noNaN: true }), async (commands, cutAt) => {
        const dir = temporaryDir();
        const options = { durability: EXPLICIT, valueEncoding: 'utf8' as const, checkpointEveryBytes: Infinity };
        const kv = await WalKv.open(dir, options);
        const model: Model = new Map();
        const states = new Set([modelState(model)]);
        for (const [step, next] of commands.entries()) {
          write(kv, model, next as Exclude<Command, { kind: 'maintain' }>, step);
          states.add(modelState(model));
        }
        await kv.close();
        // A crash that lost the end of the log: cut it at any byte past the header.
        const log = logPath(dir);
        const size = statSync(log).size;
        truncateSync(log, Math.floor(LOG_HEADER_FRAME_BYTES + (size - LOG_HEADER_FRAME_BYTES) * cutAt));
        const reopened = await WalKv.open(dir, options);
        expect(states.has(stateOf(reopened))).toBe(true);
        await reopened.close();
      }),
      { numRuns: 60 },
    );
  });

  it('refuses malformed conditions with KEEL_BAD_ARGUMENT, writing nothing', async () => {
    const kv = await WalKv.open(temporaryDir(), { durability: EXPLICIT, valueEncoding: 'utf8' });
    const seq = kv.put('a', '1');
    for (const bad of [{ ifSeq: 0 }, { ifSeq: 1.5 }, { ifSeq: '1' }, { ifAbsent: 1 }, { ifSeq: seq, ifAbsent: true }]) {
      await expectCode(() => kv.batch([{ type: 'put', key: 'b', value: '2', ...bad } as never]), 'KEEL_BAD_ARGUMENT');
    }
    await expectCode(() => kv.batch([{ type: 'del', key: 'a', ifAbsent: true } as never]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.putIfSeq('a', '2', -1), 'KEEL_BAD_ARGUMENT');
    expect(kv.stats().lastSeq).toBe(seq);
    expect(kv.putIfSeq('a', '2', seq)).toBe(seq + 1);
    expect(kv.putIfSeq('a', '3', seq)).toBeNull();
    expect(kv.get('a')).toBe('2');
    await kv.close();
  });
});
