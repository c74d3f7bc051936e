import { FrameScanner, checkFrameAt, joinPath, sameStoreId, writeFileDurably, type Io, type IoFile } from '@keel/core';
import { LOG_HEADER_FRAME_BYTES, LOG_RECORD_FORMAT, TEMPORARY_SUFFIX, hasRecordPlace, snapshotFileName, type LogHeader } from './format.js';
import { KeyIndex } from './key-index.js';
import { RECORD_PAYLOAD_BYTES_MAX } from './limits.js';
import { SNAPSHOT_FORMAT, SnapshotRejected, beginEntries, decodeEntries, decodeHeader, decodeTrailer, finishEntries, isTrailer, type SnapshotMeta } from './snapshot-format.js';

/**
 * Writes a snapshot the crash-safe way (core's durable file write under the name
 * `<name>.tmp`): a crash leaves either no snapshot (the `.tmp` is removed on open) or a
 * complete one. With `logDurable` (the datasync of the log the snapshot points into), the
 * snapshot's own write and datasync run beside it, and the snapshot is renamed into
 * place only once both are done: a named snapshot never points at log bytes that are
 * not durable.
 */
export async function writeSnapshotFile(io: Io, dir: string, seq: number, frames: readonly Uint8Array[], logDurable?: Promise<void>): Promise<string> {
  const finalPath = joinPath(dir, snapshotFileName(seq));
  await writeFileDurably(io, finalPath, frames, { temporaryPath: finalPath + TEMPORARY_SUFFIX, ...(logDurable === undefined ? {} : { renameAfter: logDurable }) });
  return finalPath;
}

export type SnapshotLoad =
  | { kind: 'loaded'; index: KeyIndex; meta: SnapshotMeta }
  /**
   * The snapshot is damaged, incomplete or for another generation: it proves nothing.
   * `ours` when its header frame checks out and names this store (recovery may remove it).
   */
  | { kind: 'rejected'; reason: string; olderGeneration: boolean; ours: boolean }
  /** A whole snapshot header naming another store: not ours, never used or removed. */
  | { kind: 'foreign'; reason: string }
  /** An intact header of ours counting more keys than this open allows: the store cannot be opened with that limit. */
  | { kind: 'too-many-keys'; entryCount: number }
  /**
   * The snapshot is intact, so the log was durable through `meta.logPosition` when it was
   * written, yet the log no longer holds a valid record ending there: durable log bytes
   * were lost or damaged.
   */
  | { kind: 'log-damaged'; reason: string; meta: SnapshotMeta };

/** Loads the snapshot at `path` for the log `log` (of `logSize` bytes), or says why it cannot be used. */
export function loadSnapshot(io: Io, path: string, nameSeq: number, header: LogHeader, log: IoFile, logSize: number, keysMax: number): SnapshotLoad {
  let file: IoFile;
  try {
    file = io.open(path);
  } catch (error) {
    return { kind: 'rejected', reason: `cannot open: ${(error as Error).message}`, olderGeneration: false, ours: false };
  }
  let meta: SnapshotMeta | null = null;
  let index: KeyIndex;
  try {
    const scanner = new FrameScanner(file, SNAPSHOT_FORMAT);
    const first = scanner.next();
    if (first === null) throw new SnapshotRejected(`no header frame (${scanner.tailState ?? 'empty'})`);
    const decoded = decodeHeader(first.payload);
    if (!sameStoreId(decoded.storeId, header.storeId)) return { kind: 'foreign', reason: 'its store id is not this store\'s' };
    meta = decoded;
    checkMeta(meta, nameSeq, header);
    if (meta.entryCount > keysMax) return { kind: 'too-many-keys', entryCount: meta.entryCount };
    index = decodeBody(scanner, meta, file.sizeSync());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'rejected', reason, olderGeneration: meta !== null && meta.generation < header.generation, ours: meta !== null };
  } finally {
    file.closeSync();
  }
  const damage = logDamage(meta, log, logSize);
  if (damage !== null) return { kind: 'log-damaged', reason: damage, meta };
  return { kind: 'loaded', index, meta };
}

function decodeBody(scanner: FrameScanner, meta: SnapshotMeta, fileBytes: number): KeyIndex {
  const index = new KeyIndex();
  beginEntries(index, meta, fileBytes);
  let trailerSeen = false;
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    if (trailerSeen) throw new SnapshotRejected('frames after the trailer');
    if (isTrailer(frame.payload)) {
      decodeTrailer(frame.payload, meta, scanner.frames);
      trailerSeen = true;
    } else {
      decodeEntries(frame.payload, index);
    }
  }
  if (scanner.tailState !== 'clean-end') throw new SnapshotRejected(`damaged frame at ${scanner.validBytes} (${scanner.tailState})`);
  if (!trailerSeen) throw new SnapshotRejected('incomplete');
  finishEntries(index);
  return index;
}

function checkMeta(meta: SnapshotMeta, nameSeq: number, header: LogHeader): void {
  if (meta.seq !== nameSeq) throw new SnapshotRejected(`holds seq ${meta.seq} but is named for ${nameSeq}`);
  if (meta.generation !== header.generation) throw new SnapshotRejected(`is for log generation ${meta.generation}, the log is ${header.generation}`);
  if (meta.seq < header.baseSeq) throw new SnapshotRejected(`seq ${meta.seq} is older than the log's base seq ${header.baseSeq}`);
  if (meta.logPosition < LOG_HEADER_FRAME_BYTES) throw new SnapshotRejected(`log position ${meta.logPosition} is inside the header`);
  const frameBytes = meta.logPosition - meta.lastFrameOffset;
  if (meta.logPosition > LOG_HEADER_FRAME_BYTES && (meta.lastFrameOffset < LOG_HEADER_FRAME_BYTES || frameBytes > RECORD_PAYLOAD_BYTES_MAX + 12 || frameBytes < 12)) {
    throw new SnapshotRejected(`last frame offset ${meta.lastFrameOffset} is impossible`);
  }
}

/** Why the log does not back the snapshot (the record ending at its position is missing or bad), or null. */
function logDamage(meta: SnapshotMeta, log: IoFile, logSize: number): string | null {
  if (meta.logPosition > logSize) return `covers ${meta.logPosition} log bytes, the log has ${logSize}`;
  if (meta.logPosition === LOG_HEADER_FRAME_BYTES) return null;
  const frameBytes = meta.logPosition - meta.lastFrameOffset;
  const frame = new Uint8Array(frameBytes);
  if (log.readSync(frame, meta.lastFrameOffset) !== frameBytes) return 'the log is shorter than the snapshot says';
  const check = checkFrameAt(frame, 0, LOG_RECORD_FORMAT);
  if (!check.ok || check.frameBytes !== frameBytes || !hasRecordPlace(frame, meta.lastFrameOffset, meta.generation)) return `the log has no valid record ending at ${meta.logPosition}`;
  return null;
}
