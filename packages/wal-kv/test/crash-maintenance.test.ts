import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { FaultyIo } from './faulty-io.js';
import { temporaryDir } from './helpers.js';

type Task = 'checkpoint' | 'compact';

async function prepared(dir: string, io: FaultyIo): Promise<WalKv<string>> {
  const kv = await WalKv.open<string>(dir, { io, valueEncoding: 'utf8', checkpointEveryBytes: Infinity });
  for (let i = 0; i < 30; i++) kv.put(`key-${i}`, `value-${i}`);
  await kv.checkpoint();
  for (let i = 0; i < 30; i += 3) kv.delete(`key-${i}`);
  kv.put('key-1', 'overwritten');
  await kv.sync();
  return kv;
}

function stateOf(kv: WalKv<string>): Record<string, string> {
  return Object.fromEntries([...kv.entries()].map(([key, value]) => [String(key), value]));
}

/** Runs the task, then one more write and a sync; the Io may fail at any point of it. */
async function act(kv: WalKv<string>, task: Task): Promise<void> {
  if (task === 'compact') await kv.compact();
  else await kv.checkpoint();
  kv.put('late', 'write');
  await kv.sync();
}

async function mutationsOf(task: Task): Promise<{ count: number; before: Record<string, string>; after: Record<string, string> }> {
  const io = new FaultyIo();
  const kv = await prepared(temporaryDir(), io);
  const before = stateOf(kv);
  io.mutations = 0;
  await act(kv, task);
  const count = io.mutations;
  const after = stateOf(kv);
  await kv.close();
  return { count, before, after };
}

describe.each(['checkpoint', 'compact'] as const)('a crash at every mutating step of %s', (task) => {
  it('reopens to the state before or after, accepts writes, and recovers idempotently', async () => {
    const { count, before, after } = await mutationsOf(task);
    expect(count).toBeGreaterThan(task === 'compact' ? 10 : 5);
    for (let failAt = 1; failAt <= count; failAt++) {
      const dir = temporaryDir();
      const io = new FaultyIo();
      const kv = await prepared(dir, io);
      io.mutations = 0;
      io.failAt = failAt;
      await act(kv, task).catch(() => undefined);
      await kv.close().catch(() => undefined);

      const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
      const state = stateOf(reopened);
      expect([before, after], `failing mutation ${failAt} of ${count}`).toContainEqual(state);
      reopened.put('after-crash', 'yes');
      await reopened.close();
      const again = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
      expect(stateOf(again)).toEqual({ ...state, 'after-crash': 'yes' });
      expect(again.recovery.tailState).toBe('clean-end');
      // The first reopen cleaned up; the second finds nothing to do.
      expect(again.recovery.actions.filter((action) => action.kind !== 'loaded-snapshot')).toEqual([]);
      await again.close();
    }
  });
});
