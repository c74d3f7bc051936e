import type { LogAdapter } from '../adapter.js';
import type { FlawName, ReferenceFlaws } from './flaws.js';
import { ReferenceLog } from './reference-log.js';

/** Small segments so that short scenarios roll often. */
export const REFERENCE_SEGMENT_BYTES = 160;

interface ReferenceStore {
  log: ReferenceLog;
  everyWrite: boolean;
}

/** The conformance adapter of the reference log, optionally built with flaws (mutants). */
export function referenceLogAdapter(flaws: ReferenceFlaws = {}, name = 'reference-log'): LogAdapter<ReferenceStore> {
  return {
    name,
    kind: 'log',
    // Core frames carry no position: a whole frame misdirected onto another's place is undetectable.
    supports: { everyWrite: true, batch: true, salvage: true, derivedFiles: true, positionFreeFrames: true, durabilityNone: true },
    async open(io, dir, options) {
      const log = await ReferenceLog.open(dir, { io, durability: options.durability, recovery: options.recovery, segmentBytes: REFERENCE_SEGMENT_BYTES, flaws });
      return { log, everyWrite: options.durability.mode === 'every-write' };
    },
    close: (store) => store.log.close(),
    sync: (store) => store.log.sync(),
    recovery: (store) => store.log.recovery,
    append(store, payload) {
      const position = store.log.append(payload);
      return store.everyWrite ? store.log.syncThrough(position) : undefined;
    },
    appendBatch(store, payloads) {
      const position = store.log.appendBatch(payloads);
      return store.everyWrite ? store.log.syncThrough(position) : undefined;
    },
    read: (store) => store.log.records(),
    isDerivedFile: (path) => path.endsWith('.index'),
    // The reference format has no store identity.
    carriesNoStoreIdentity: () => true,
    protocols: { roll: (store) => store.log.roll() },
  };
}

/** One mutant per flaw: the reference log with exactly that bug. */
export function mutantAdapter(flaw: FlawName): LogAdapter<ReferenceStore> {
  return referenceLogAdapter({ [flaw]: true }, `mutant:${flaw}`);
}

/** The reference log's adapter as a module export, for child processes (the SIGKILL test). */
export const referenceAdapter = referenceLogAdapter();
