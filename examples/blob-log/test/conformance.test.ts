import { describeBackend, type LogAdapter } from '@keel/conformance';
import { BlobLog } from '../src/index.js';

interface BlobStore {
  log: BlobLog;
  everyWrite: boolean;
}

/** The example store as the conformance suite drives it; a blob's position is its frame's offset. */
const blobLogAdapter: LogAdapter<BlobStore> = {
  name: 'blob-log (example)',
  kind: 'log',
  // Core frames carry no position: a whole frame misdirected onto another's place is undetectable.
  supports: { everyWrite: true, salvage: true, positionFreeFrames: true, durabilityNone: true, readOnly: true },
  async open(io, dir, options) {
    const log = await BlobLog.open(dir, { io, durability: options.durability, recovery: options.recovery, readOnly: options.readOnly });
    return { log, everyWrite: options.durability.mode === 'every-write' };
  },
  close: (store) => store.log.close(),
  sync: (store) => store.log.sync(),
  recovery: (store) => store.log.recovery,
  append(store, payload) {
    const end = store.log.append(payload);
    return store.everyWrite ? store.log.syncThrough(end) : undefined;
  },
  read: (store) => store.log.blobs(),
  // The example keeps no store identity: a blobs.log copied from another store is not told apart (docs/ADDING-A-BACKEND.md).
  carriesNoStoreIdentity: () => true,
};

describeBackend(blobLogAdapter);
