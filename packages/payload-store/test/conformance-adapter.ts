import type { LogAdapter } from '@keel/conformance';
import { PayloadStore } from '../src/index.js';

/** Small segments so that a short scenario rotates, seals and compacts several. */
/** The segment header (its CRC-32C in its last 4 bytes) and a mapping's header (likewise), README, Format. */
const SEGMENT_HEADER_BYTES = 48;
const MAPPING_HEADER_BYTES = 52;
const CONFORMANCE_SEGMENT_BYTES = 256;

interface PayloadStoreStore {
  store: PayloadStore;
  everyWrite: boolean;
}

/**
 * The payload store as a log: its state is every payload in append order (`scan()`),
 * a record's position its place in that order. Compaction keeps every payload live
 * and commits at once, so the state must not change; under every-write a write's
 * acknowledgement is a sync() made right after it.
 */
export const payloadStoreAdapter: LogAdapter<PayloadStoreStore> = {
  name: 'payload-store',
  kind: 'log',
  // Frames are bound to their segment and offset, sealed segments to their end, segments to the store (README, Format):
  // misplaced, stale and lost frames and foreign segments must all be refused or harmless.
  supports: { everyWrite: true, batch: true, salvage: true, durabilityNone: true, readOnly: true, backup: true },
  async open(io, dir, options) {
    const store = await PayloadStore.open(dir, { io, durability: options.durability, recovery: options.recovery, readOnly: options.readOnly, segmentBytes: CONFORMANCE_SEGMENT_BYTES });
    return { store, everyWrite: options.durability.mode === 'every-write' };
  },
  close: (handle) => handle.store.close(),
  sync: (handle) => handle.store.sync(),
  recovery: (handle) => handle.store.recovery,
  backup: (handle, target) => handle.store.backup(target),
  append(handle, payload) {
    handle.store.append(payload);
    return handle.everyWrite ? handle.store.sync() : undefined;
  },
  appendBatch(handle, payloads) {
    handle.store.appendBatch(payloads);
    return handle.everyWrite ? handle.store.sync() : undefined;
  },
  read(handle) {
    return [...handle.store.scan()].map((scanned, position) => ({ position, payload: new Uint8Array(scanned.payload) }));
  },
  // Checksummed layouts that are not core frames (README, Format): the segment header, and a mapping's header and body.
  checksummedRegions(name, bytes) {
    if (name.endsWith('.seg') && bytes.length >= SEGMENT_HEADER_BYTES) return [{ start: 0, end: SEGMENT_HEADER_BYTES - 4, crcAt: SEGMENT_HEADER_BYTES - 4 }];
    if (!name.endsWith('.mapping') || bytes.length < MAPPING_HEADER_BYTES + 4) return [];
    return [
      { start: 0, end: MAPPING_HEADER_BYTES - 4, crcAt: MAPPING_HEADER_BYTES - 4 },
      { start: 0, end: bytes.length - 4, crcAt: bytes.length - 4, fieldsFrom: MAPPING_HEADER_BYTES },
    ];
  },
  protocols: {
    seal: (handle) => handle.store.seal(),
    async compact(handle) {
      const live = [...handle.store.scan()].map((scanned) => scanned.ref);
      const plan = await handle.store.compact(live, { seal: true });
      await plan.commit();
    },
  },
};
