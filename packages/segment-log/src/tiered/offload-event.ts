import { KeelError, REMOTE_OBJECT_BYTES_MAX, badArgument, readUint64, writeUint64 } from '@keel/core';

import { getInt64, setInt64, viewOf } from '../format.js';

/**
 * What the offload journal records, one event per journal record (KIP-405's remote log
 * metadata events). Every copy of a sealed segment to the remote store gets a random copy
 * id, so a copy that a crash interrupted is never confused with a later one: its objects
 * are deleted (delete-started, delete-finished) and the segment is copied afresh.
 *
 *   copy-started     the copy's objects may exist, partly or wholly, from here on
 *   copy-finished    every object is in the store, with the lengths and CRC-32Cs recorded
 *   delete-started   the copy's objects may be gone, partly or wholly, from here on
 *   delete-finished  none of the copy's objects exist
 *
 * Payload (little-endian), format version 1 or 2:
 *
 *   0   u8   version: 1, or 2 for a copy-finished whose indexes are in its .log object
 *   1   u8   type (1 copy-started, 2 copy-finished, 3 delete-started, 4 delete-finished)
 *   2   u16  reserved, 0
 *   4   u64  the segment's base offset
 *   12  8 B  copy id
 *   20  u64  copy-finished only: the offset after the segment's last record
 *   28  i64  copy-finished only: the segment's largest record timestamp (retention by age)
 *   36  3 ×  copy-finished only, for .log, .index, .timeindex: u32 bytes, u32 CRC-32C
 *
 * A copy-finished payload is also the copy's manifest object in the remote store, so a
 * reader with only the bucket learns the same facts the journal holds.
 *
 * Version 2 (copy-finished only) says where the copy's indexes are: its `.log` object
 * holds the `.log` file's bytes, then the `.index` file's, then the `.timeindex` file's,
 * and there are no `.index` or `.timeindex` objects: two puts per copy instead of four.
 * Copies recorded with version 1 have the three objects, and are read as they were.
 */
export const OFFLOAD_EVENT_VERSION = 1;
/** The version of a copy-finished event whose indexes are appended to its `.log` object. */
export const OFFLOAD_EVENT_VERSION_INDEXES_IN_LOG = 2;
export const COPY_ID_BYTES = 8;
export const OFFLOAD_EVENT_BYTES = 20;
export const COPY_FINISHED_EVENT_BYTES = OFFLOAD_EVENT_BYTES + 8 + 8 + 3 * 8;
const FILES_AT = 36;

export const OFFLOAD_EVENT_TYPES = ['copy-started', 'copy-finished', 'delete-started', 'delete-finished'] as const;
export type OffloadEventType = (typeof OFFLOAD_EVENT_TYPES)[number];

/** The three files of a sealed segment, in the order they are copied and recorded. */
export const SEGMENT_FILE_KINDS = ['log', 'index', 'timeindex'] as const;
export type SegmentFileKind = (typeof SEGMENT_FILE_KINDS)[number];

export interface CopiedFile {
  bytes: number;
  checksum: number;
}

export type CopiedFiles = Record<SegmentFileKind, CopiedFile>;

export type OffloadEvent =
  | { type: 'copy-started' | 'delete-started' | 'delete-finished'; baseOffset: number; copyId: string }
  | CopyFinishedEvent;

export interface CopyFinishedEvent {
  type: 'copy-finished';
  baseOffset: number;
  copyId: string;
  nextOffset: number;
  maxTimestamp: number;
  files: CopiedFiles;
  /** The `.index` and `.timeindex` bytes follow the log's in the `.log` object (version 2), rather than being objects of their own. */
  indexesInLog: boolean;
}

const COPY_ID_PATTERN = /^[0-9a-f]{16}$/;

export function assertCopyId(copyId: string): void {
  if (!COPY_ID_PATTERN.test(copyId)) throw badArgument(`a copy id is ${COPY_ID_BYTES * 2} lowercase hex digits, got '${copyId}'`);
}

export function encodeOffloadEvent(event: OffloadEvent): Buffer {
  assertCopyId(event.copyId);
  const bytes = Buffer.alloc(event.type === 'copy-finished' ? COPY_FINISHED_EVENT_BYTES : OFFLOAD_EVENT_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  view.setUint8(0, event.type === 'copy-finished' && event.indexesInLog ? OFFLOAD_EVENT_VERSION_INDEXES_IN_LOG : OFFLOAD_EVENT_VERSION);
  view.setUint8(1, OFFLOAD_EVENT_TYPES.indexOf(event.type) + 1);
  writeUint64(view, 4, event.baseOffset, 'baseOffset');
  bytes.write(event.copyId, 12, 'hex');
  if (event.type === 'copy-finished') {
    writeUint64(view, 20, event.nextOffset, 'nextOffset');
    if (!Number.isSafeInteger(event.maxTimestamp)) throw badArgument(`maxTimestamp must be a safe integer, got ${event.maxTimestamp}`);
    setInt64(viewOf(bytes), 28, event.maxTimestamp);
    SEGMENT_FILE_KINDS.forEach((kind, index) => {
      const file = event.files[kind];
      view.setUint32(FILES_AT + index * 8, file.bytes, true);
      view.setUint32(FILES_AT + 4 + index * 8, file.checksum, true);
    });
  }
  return bytes;
}

/** Decodes one event, checking its version, type and length; `where` names it in errors. */
export function decodeOffloadEvent(payload: Uint8Array, where: { path: string; offset: number }): OffloadEvent {
  const corrupt = (why: string) => new KeelError('KEEL_CORRUPT', `${where.path}: offload event at ${where.offset} ${why}`, where);
  if (payload.length < OFFLOAD_EVENT_BYTES) throw corrupt(`is ${payload.length} bytes, shorter than any event`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const version = view.getUint8(0);
  const type = OFFLOAD_EVENT_TYPES[view.getUint8(1) - 1];
  if (version !== OFFLOAD_EVENT_VERSION && !(version === OFFLOAD_EVENT_VERSION_INDEXES_IN_LOG && type === 'copy-finished')) throw corrupt(`has version ${version}`);
  if (type === undefined) throw corrupt(`has type ${view.getUint8(1)}`);
  const expected = type === 'copy-finished' ? COPY_FINISHED_EVENT_BYTES : OFFLOAD_EVENT_BYTES;
  if (payload.length !== expected || view.getUint16(2, true) !== 0) throw corrupt(`is ${payload.length} bytes or has reserved bits set`);
  const baseOffset = readUint64(view, 4, 'baseOffset', where);
  const copyId = Buffer.from(payload.buffer, payload.byteOffset + 12, COPY_ID_BYTES).toString('hex');
  if (type !== 'copy-finished') return { type, baseOffset, copyId };
  const nextOffset = readUint64(view, 20, 'nextOffset', where);
  if (nextOffset <= baseOffset) throw corrupt(`ends at ${nextOffset}, not after its base offset ${baseOffset}`);
  const maxTimestamp = getInt64(viewOf(payload), 28);
  if (maxTimestamp === null) throw corrupt('has a max timestamp that is not a safe integer');
  const files = Object.fromEntries(SEGMENT_FILE_KINDS.map((kind, index) => [
    kind,
    { bytes: view.getUint32(FILES_AT + index * 8, true), checksum: view.getUint32(FILES_AT + 4 + index * 8, true) },
  ])) as CopiedFiles;
  const indexesInLog = version === OFFLOAD_EVENT_VERSION_INDEXES_IN_LOG;
  if (indexesInLog && files.log.bytes + files.index.bytes + files.timeindex.bytes > REMOTE_OBJECT_BYTES_MAX) throw corrupt('names files that do not fit one object together');
  return { type, baseOffset, copyId, nextOffset, maxTimestamp, files, indexesInLog };
}
