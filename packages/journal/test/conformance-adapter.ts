import { createDirectoryDurably, joinPath } from '@keel/core';
import type { LogAdapter } from '@keel/conformance';
import { Journal } from '../src/index.js';

interface JournalStore {
  journal: Journal;
  everyWrite: boolean;
}

/** The journal as the conformance suite drives it: one file in the store directory; a record's position is its LSN. */
export const journalAdapter: LogAdapter<JournalStore> = {
  name: 'journal',
  kind: 'log',
  // fsys frames carry no position: a whole frame misdirected onto another's place is undetectable.
  supports: { everyWrite: true, batch: true, salvage: true, positionFreeFrames: true, durabilityNone: true, readOnly: true, backup: true },
  async open(io, dir, options) {
    // The journal's directory is the caller's to make durable, as a user would (a reader makes nothing).
    if (options.readOnly !== true) await createDirectoryDurably(io, dir);
    const journal = await Journal.open(joinPath(dir, 'journal.wal'), { io, durability: options.durability, recovery: options.recovery, readOnly: options.readOnly });
    return { journal, everyWrite: options.durability.mode === 'every-write' };
  },
  close: (store) => store.journal.close(),
  sync: (store) => store.journal.sync(),
  recovery: (store) => store.journal.recovery,
  backup: (store, target) => store.journal.backup(joinPath(target, 'journal.wal')),
  append(store, payload) {
    const lsn = store.journal.append(payload);
    return store.everyWrite ? store.journal.syncThrough(lsn) : undefined;
  },
  appendBatch(store, payloads) {
    const lsn = store.journal.appendBatch(payloads);
    return store.everyWrite ? store.journal.syncThrough(lsn) : undefined;
  },
  read: (store) => [...store.journal.records()].map((record) => ({ position: record.lsn, payload: record.payload })),
  // The fsys format has no store identity: another journal's file is a valid journal.
  carriesNoStoreIdentity: () => true,
};
