import { Buffer } from 'node:buffer';
import { keyBuffer, type KeyBytes } from './encoding.js';
import { CAPTURE_FIELDS } from './key-index.js';
import type { RangeEntry } from './range.js';
import { overlayKey, ViewOverlay } from './view-overlay.js';
import type { LogWriter } from './writer.js';
import type { StoreState } from './wal-kv.js';

/**
 * A log generation a compaction replaced while a read view still needed it: its file
 * stays open (and on disk) until no open view is older than it.
 */
export interface RetiredLog {
  writer: LogWriter;
  /** The compaction that replaced it is over (no sync of it is running any more). */
  settled: boolean;
  /** A newer generation is installed: the file is removed once released. */
  remove: boolean;
}

/** Registers a view of the store as it is now. Costs nothing until the next write. */
export function openView(state: StoreState): ViewOverlay {
  const view = new ViewOverlay(state.indexedFrom, state.lastSeq, state.index.size);
  state.views.add(view);
  return view;
}

/**
 * Forgets a view and lets go of the retired log generations no open view needs. A
 * failure to close or remove such a file is left for open to clean up (it removes older
 * generations of this store), so releasing a view never throws.
 */
export function releaseView(state: StoreState, view: ViewOverlay): void {
  if (!state.views.delete(view)) return;
  try {
    releaseRetiredLogs(state);
  } catch {
    // See above: an older generation left on disk is removed by the next open.
  }
}

/** Closes (and removes, once a newer generation is installed) every retired log that no open view pins. */
export function releaseRetiredLogs(state: StoreState): void {
  for (const [generation, log] of state.retiredLogs) {
    if (!log.settled || isPinned(state, generation)) continue;
    state.retiredLogs.delete(generation);
    log.writer.file.closeSync();
    if (log.remove) state.io.remove(log.writer.path);
  }
}

/** Whether an open view was created in `generation` or before (it may read values there). */
export function isPinned(state: StoreState, generation: number): boolean {
  for (const view of state.views) if (view.generation <= generation) return true;
  return false;
}

/** The seq of the newest open view, or 0 when none is open (no entry has seq 0). */
export function newestViewSeq(state: StoreState): number {
  let seq = 0;
  for (const view of state.views) if (view.seq > seq) seq = view.seq;
  return seq;
}

/**
 * After a record was applied with views open: every open view for which it was the
 * first write to a key that existed at its creation captures the key's entry as it was
 * before the record. The index reported those entries as it applied the record (each
 * entry last written at or before the newest view's seq; see `LogWriter.appendRecord`).
 * A key absent before, or last written after a view was created, needs nothing for it:
 * the key did not exist then, or its first write since captured it. Nothing is read
 * from disk.
 */
export function captureReplaced(state: StoreState): void {
  const captured = state.index.captured;
  for (let i = 0; i < captured[0]!; i++) {
    const at = 1 + i * CAPTURE_FIELDS;
    const seq = captured[at + 3]!;
    let entry: RangeEntry | undefined;
    let key = '';
    for (const view of state.views) {
      if (seq > view.seq) continue;
      if (entry === undefined) {
        entry = { key: state.writer.bufferedBytesAt(captured[at]!, captured[at + 5]!), generation: state.generation - captured[at + 6]!, position: captured[at + 1]!, length: captured[at + 2]!, seq, keyCrc: captured[at + 4]! };
        key = overlayKey(entry.key);
      }
      view.capture(key, entry);
    }
  }
}

/** The live index entry of `key` (the key bytes copied), or null when absent. */
export function currentEntry(state: StoreState, key: KeyBytes): RangeEntry | null {
  return state.index.find(key) ? foundEntry(state, key) : null;
}

/** The entry the index's last successful `find` of `key` filled in. */
function foundEntry(state: StoreState, key: KeyBytes): RangeEntry {
  const found = state.index.found;
  return { key: Buffer.from(keyBuffer(key)), generation: state.generation - found[5]!, position: found[0]!, length: found[1]!, seq: found[2]!, keyCrc: found[3]! };
}

/** The verified value bytes of an entry (read with its batch, else from the log generation it points into): the caller's. */
export function readEntry(state: StoreState, entry: RangeEntry): Buffer {
  return entry.value ?? logOf(state, entry.generation).readValue(entry.keyCrc, entry.position, entry.length);
}

/** The open log of `generation`: the current one, or one kept for a read view or for values not yet moved by compaction. */
export function logOf(state: StoreState, generation: number): LogWriter {
  const writer = generation === state.generation ? state.writer : state.retiredLogs.get(generation)?.writer;
  if (writer === undefined) throw new Error(`log generation ${generation} is not held for a read that needs it`);
  return writer;
}
