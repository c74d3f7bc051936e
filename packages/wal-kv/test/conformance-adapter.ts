import type { KvAdapter } from '@keel/conformance';
import { WalKv } from '../src/index.js';

/** Small thresholds so that short scenarios snapshot and compact on their own too. */
const CONFORMANCE_CHECKPOINT_EVERY_BYTES = 256;
const CONFORMANCE_COMPACT_GARBAGE_RATIO = 0.5;

interface WalKvStore {
  kv: WalKv<Uint8Array>;
  everyWrite: boolean;
}

/** wal-kv as the conformance suite drives it; under every-write a write's acknowledgement is a sync() made right after it. */
export const walKvAdapter: KvAdapter<WalKvStore> = {
  name: 'wal-kv',
  kind: 'kv',
  supports: { everyWrite: true, batch: true, salvage: true, derivedFiles: true, durabilityNone: true, readOnly: true, backup: true },
  async open(io, dir, options) {
    const kv = await WalKv.open<Uint8Array>(dir, {
      io,
      durability: options.durability,
      recovery: options.recovery,
      readOnly: options.readOnly,
      valueEncoding: 'binary',
      checkpointEveryBytes: CONFORMANCE_CHECKPOINT_EVERY_BYTES,
      compactWhenGarbageRatio: CONFORMANCE_COMPACT_GARBAGE_RATIO,
    });
    return { kv, everyWrite: options.durability.mode === 'every-write' };
  },
  close: (store) => store.kv.close(),
  sync: (store) => store.kv.sync(),
  recovery: (store) => store.kv.recovery,
  backup: (store, target) => store.kv.backup(target),
  put(store, key, value) {
    store.kv.put(key, value);
    return store.everyWrite ? store.kv.sync() : undefined;
  },
  delete(store, key) {
    store.kv.delete(key);
    return store.everyWrite ? store.kv.sync() : undefined;
  },
  batch(store, operations) {
    store.kv.batch(operations);
    return store.everyWrite ? store.kv.sync() : undefined;
  },
  read(store) {
    const out = new Map<string, Uint8Array>();
    for (const [key, value] of store.kv.entries()) out.set(key as string, value);
    return out;
  },
  isDerivedFile: (path) => path.endsWith('.snap'),
  protocols: { snapshot: (store) => store.kv.checkpoint(), compact: (store) => store.kv.compact() },
};
