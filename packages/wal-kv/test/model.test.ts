import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

type Command =
  | { kind: 'put'; key: string; value: Uint8Array }
  | { kind: 'del'; key: string }
  | { kind: 'batch'; operations: Array<{ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }> }
  | { kind: 'reopen' }
  | { kind: 'snapshot' }
  | { kind: 'compact' };

const keyArbitrary = fc.constantFrom('a', 'b', 'c', 'dd', 'é', 'key/1', 'key/2', '\u0000z');
const valueArbitrary = fc.uint8Array({ maxLength: 24 });
const operationArbitrary = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: keyArbitrary, value: valueArbitrary }),
  fc.record({ type: fc.constant('del' as const), key: keyArbitrary }),
);
const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArbitrary, value: valueArbitrary }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyArbitrary }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('batch' as const), operations: fc.array(operationArbitrary, { maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
);

function apply(model: Map<string, Uint8Array>, command: Command): void {
  if (command.kind === 'put') model.set(command.key, command.value);
  else if (command.kind === 'del') model.delete(command.key);
  else if (command.kind === 'batch') {
    for (const operation of command.operations) {
      if (operation.type === 'put') model.set(operation.key, operation.value);
      else model.delete(operation.key);
    }
  }
}

function expectSameAs(kv: WalKv<Uint8Array>, model: Map<string, Uint8Array>): void {
  expect(kv.size).toBe(model.size);
  const expected = [...model.entries()].sort(([a], [b]) => compareBytes(a, b)).map(([key, value]) => [key, Buffer.from(value).toString('hex')]);
  expect([...kv.entries()].map(([key, value]) => [key, Buffer.from(value).toString('hex')])).toEqual(expected);
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

describe('model: WalKv behaves like a Map across reopen, snapshot and compaction', () => {
  it('matches a Map after every command', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary, { maxLength: 40 }), fc.boolean(), async (commands, tinySnapshots) => {
        const dir = temporaryDir();
        const options = { checkpointEveryBytes: tinySnapshots ? 100 : Infinity, durability: { mode: 'explicit' as const } };
        let kv = await WalKv.open<Uint8Array>(dir, options);
        const model = new Map<string, Uint8Array>();
        let seq = 0;
        try {
          for (const command of commands) {
            if (command.kind === 'reopen') {
              await kv.close();
              kv = await WalKv.open<Uint8Array>(dir, options);
              expect(kv.stats().lastSeq).toBe(seq);
            } else if (command.kind === 'snapshot') await kv.checkpoint();
            else if (command.kind === 'compact') await kv.compact();
            else if (command.kind === 'put') seq = kv.put(command.key, command.value);
            else if (command.kind === 'del') seq = kv.delete(command.key);
            else seq = kv.batch(command.operations);
            apply(model, command);
            for (const key of ['a', 'é', '\u0000z']) expect(kv.get(key)).toEqual(model.has(key) ? Buffer.from(model.get(key)!) : undefined);
          }
          expectSameAs(kv, model);
        } finally {
          await kv.close();
        }
        const reopened = await WalKv.open<Uint8Array>(dir, options);
        expectSameAs(reopened, model);
        await reopened.close();
      }),
      { numRuns: 40 },
    );
  });
});
