/**
 * What every store does the same way, whatever its format: the lock, use after close, and
 * close of a poisoned store. Decided once in core (see core's README, "One store
 * protocol") and asserted here for every backend, not by four sets of tests.
 */
import { isKeelError, type DurabilityPolicy, type KeelErrorCode } from '@keel/core';

import type { AdapterOpenOptions, BackendAdapter } from './adapter.js';
import { FaultFs } from './fault-fs.js';
import { makePayload } from './model.js';
import { ConformanceViolation } from './violation.js';

const DIR = '/store';
const OPTIONS: AdapterOpenOptions = { durability: { mode: 'explicit' }, recovery: 'truncate-tail' };

export interface StoreProtocolCheck {
  name: string;
  run(adapter: BackendAdapter): Promise<void>;
}

async function codeOf(action: () => unknown): Promise<KeelErrorCode | 'resolved' | 'not a KeelError'> {
  try {
    await action();
    return 'resolved';
  } catch (error) {
    return isKeelError(error) ? error.code : 'not a KeelError';
  }
}

async function expectCode(adapter: BackendAdapter, what: string, action: () => unknown, code: KeelErrorCode | 'resolved'): Promise<void> {
  const got = await codeOf(action);
  if (got !== code) throw new ConformanceViolation(`${adapter.name}: ${what}: expected ${code}, got ${got}`);
}

function write(adapter: BackendAdapter, store: unknown, id: number): unknown {
  const payload = makePayload(id, 32);
  return adapter.kind === 'log' ? adapter.append(store, payload) : adapter.put(store, `key-${id}`, payload);
}

export const STORE_PROTOCOL_CHECKS: readonly StoreProtocolCheck[] = [
  {
    name: "the durability option takes a mode name ('none', 'every-write', 'explicit') as well as an object",
    async run(adapter) {
      const io = new FaultFs();
      for (const name of ['explicit', 'every-write', 'none'] as const) {
        // Adapters hand the option to the backend untouched; the name form is what is checked.
        const durability = name as unknown as DurabilityPolicy;
        const store = await adapter.open(io, DIR, { ...OPTIONS, durability });
        await write(adapter, store, 1);
        await adapter.sync(store);
        await adapter.close(store);
      }
    },
  },
  {
    name: 'a second open of an open store is refused with KEEL_LOCKED, and allowed after close',
    async run(adapter) {
      const io = new FaultFs();
      const store = await adapter.open(io, DIR, OPTIONS);
      await expectCode(adapter, 'second open while open', () => adapter.open(io, DIR, OPTIONS), 'KEEL_LOCKED');
      await adapter.close(store);
      await adapter.close(await adapter.open(io, DIR, OPTIONS));
    },
  },
  {
    name: 'use after close is refused with KEEL_CLOSED, and close is idempotent',
    async run(adapter) {
      const io = new FaultFs();
      const store = await adapter.open(io, DIR, OPTIONS);
      await adapter.close(store);
      await expectCode(adapter, 'write after close', () => write(adapter, store, 1), 'KEEL_CLOSED');
      await expectCode(adapter, 'sync after close', () => adapter.sync(store), 'KEEL_CLOSED');
      await expectCode(adapter, 'second close', () => adapter.close(store), 'resolved');
    },
  },
  {
    name: 'after a failed sync, writes are refused with KEEL_POISONED, close rejects with KEEL_POISONED, and a reopen works',
    async run(adapter) {
      const io = new FaultFs();
      const store = await adapter.open(io, DIR, OPTIONS);
      await write(adapter, store, 1);
      io.inject({ operation: 'sync', nth: 1, errno: 'EIO' });
      await expectCode(adapter, 'sync with a failing fdatasync', () => adapter.sync(store), 'KEEL_IO');
      io.inject(null);
      await expectCode(adapter, 'write after a failed sync', () => write(adapter, store, 2), 'KEEL_POISONED');
      await expectCode(adapter, 'close of a poisoned store', () => adapter.close(store), 'KEEL_POISONED');
      await expectCode(adapter, 'close of a poisoned store, again', () => adapter.close(store), 'KEEL_POISONED');
      await adapter.close(await adapter.open(io, DIR, OPTIONS));
    },
  },
];
