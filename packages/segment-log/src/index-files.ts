import { FRAME_OVERHEAD_BYTES, decodeFrame, encodeFrame, parentDir, type FrameFormat, type Io, type IoFile } from '@keel/core';
import {
  HEADER_BYTES,
  MIN_TIMESTAMP_BYTES,
  OFFSET_ENTRY_BYTES,
  OFFSET_INDEX_FORMAT,
  BATCH_FRAME_BYTES_MIN,
  TIME_ENTRY_BYTES,
  TIME_INDEX_FORMAT,
  getInt64,
  setInt64,
  viewOf,
} from './format.js';
import { SparseIndex, type Segment } from './segment.js';

/**
 * `.index`: relative offset u32 LE + position u32 LE per entry.
 * `.timeindex`: timestamp i64 LE + relative offset u32 LE per entry.
 * The active segment's files are those entries back to back, appended as the log they
 * point into becomes durable; at seal each file is replaced by one frame holding all its
 * entries, so a damaged sealed index fails its CRC. Either way the files are caches:
 * checked against the log on open and rebuilt from it.
 */

export function openIndexFiles(io: Io, segment: Segment, truncate: boolean): void {
  const offset = io.open(segment.paths.offsetIndex, { create: true, truncate });
  try {
    const time = io.open(segment.paths.timeIndex, { create: true, truncate });
    segment.indexFiles = { offset, time };
  } catch (error) {
    offset.closeSync();
    throw error;
  }
}

/**
 * The active segment's index files are appended in pieces of at least this many offset
 * entries (4 KiB, a page of `.index`), not after every flush: they are caches that open
 * checks as a prefix and completes from the log, so fewer, larger writes lose nothing
 * and save a flush at 1,000 records per sync two writes of a few hundred bytes.
 */
export const INDEX_WRITE_ENTRIES = 512;

/**
 * Appends to the index files every entry whose record is durable (guard <= durableBytes)
 * and that is not there yet, once at least `minimumEntries` offset entries are waiting
 * (the time entries, added with offset entries, go along). Called after the log's
 * fdatasync, never before.
 */
export function writeDurableEntries(segment: Segment, minimumEntries = 1): void {
  const files = segment.indexFiles;
  if (!files) return;
  const index = segment.index;
  let offsetEnd = index.offsetWritten;
  while (offsetEnd < index.offsetGuard.length && (index.offsetGuard[offsetEnd] as number) <= segment.durableBytes) offsetEnd++;
  if (offsetEnd - index.offsetWritten < minimumEntries) return;
  if (offsetEnd > index.offsetWritten) {
    files.offset.writeSync(encodeOffsetEntries(index, index.offsetWritten, offsetEnd), index.offsetWritten * OFFSET_ENTRY_BYTES);
    index.offsetWritten = offsetEnd;
  }
  let timeEnd = index.timeWritten;
  while (timeEnd < index.timeGuard.length && (index.timeGuard[timeEnd] as number) <= segment.durableBytes) timeEnd++;
  if (timeEnd > index.timeWritten) {
    files.time.writeSync(encodeTimeEntries(index, index.timeWritten, timeEnd), index.timeWritten * TIME_ENTRY_BYTES);
    index.timeWritten = timeEnd;
  }
}

export function encodeOffsetEntries(index: SparseIndex, from: number, to: number): Uint8Array {
  const bytes = new Uint8Array((to - from) * OFFSET_ENTRY_BYTES);
  const view = viewOf(bytes);
  for (let entry = from; entry < to; entry++) {
    const at = (entry - from) * OFFSET_ENTRY_BYTES;
    view.setUint32(at, index.offsetRelative[entry] as number, true);
    view.setUint32(at + 4, index.offsetPosition[entry] as number, true);
  }
  return bytes;
}

export function encodeTimeEntries(index: SparseIndex, from: number, to: number): Uint8Array {
  const bytes = new Uint8Array((to - from) * TIME_ENTRY_BYTES);
  const view = viewOf(bytes);
  for (let entry = from; entry < to; entry++) {
    const at = (entry - from) * TIME_ENTRY_BYTES;
    setInt64(view, at, index.timeTimestamp[entry] as number);
    view.setUint32(at + 8, index.timeRelative[entry] as number, true);
  }
  return bytes;
}

/**
 * Reads a sealed segment's index files and checks their shape against the log's size
 * and record count: one CRC-valid frame each, whole entries, strictly increasing, in
 * range. Returns null when a file is missing or fails a check (the caller rebuilds from
 * the log). The file sizes are bounded by what the log could index before anything is
 * allocated.
 */
export function loadIndexFiles(io: Io, segment: Segment, logSize: number, records: number): { index: SparseIndex; minTimestamp: number } | null {
  const offsetBytes = readSealedFile(io, segment.paths.offsetIndex, OFFSET_INDEX_FORMAT, OFFSET_ENTRY_BYTES, 0, logSize);
  const timeFile = readSealedFile(io, segment.paths.timeIndex, TIME_INDEX_FORMAT, TIME_ENTRY_BYTES, MIN_TIMESTAMP_BYTES, logSize);
  if (offsetBytes === null || timeFile === null) return null;
  return indexFromPayloads(offsetBytes, timeFile, logSize, records);
}

/**
 * The sealed index files' bytes (each one whole frame, as read from anywhere: the disk or
 * a remote copy) checked like `loadIndexFiles` checks them; null when either fails.
 */
export function indexFromSealedFiles(offsetFile: Uint8Array, timeFile: Uint8Array, logSize: number, records: number): { index: SparseIndex; minTimestamp: number } | null {
  const offsetBytes = sealedPayload(decodeOrNull(offsetFile, OFFSET_INDEX_FORMAT), OFFSET_ENTRY_BYTES, 0);
  const timePayload = sealedPayload(decodeOrNull(timeFile, TIME_INDEX_FORMAT), TIME_ENTRY_BYTES, MIN_TIMESTAMP_BYTES);
  if (offsetBytes === null || timePayload === null) return null;
  if (offsetFile.length > sealedPayloadMax(OFFSET_INDEX_FORMAT, OFFSET_ENTRY_BYTES, 0, logSize) + FRAME_OVERHEAD_BYTES) return null;
  if (timeFile.length > sealedPayloadMax(TIME_INDEX_FORMAT, TIME_ENTRY_BYTES, MIN_TIMESTAMP_BYTES, logSize) + FRAME_OVERHEAD_BYTES) return null;
  return indexFromPayloads(offsetBytes, timePayload, logSize, records);
}

function indexFromPayloads(offsetBytes: Uint8Array, timeFile: Uint8Array, logSize: number, records: number): { index: SparseIndex; minTimestamp: number } | null {
  const minTimestamp = getInt64(viewOf(timeFile), 0);
  const timeBytes = timeFile.subarray(MIN_TIMESTAMP_BYTES);
  if (minTimestamp === null) return null;
  const index = new SparseIndex();
  const offsetView = viewOf(offsetBytes);
  for (let at = 0; at < offsetBytes.length; at += OFFSET_ENTRY_BYTES) {
    const relative = offsetView.getUint32(at, true);
    const position = offsetView.getUint32(at + 4, true);
    const previous = index.offsetRelative.length - 1;
    if (relative >= records || position < HEADER_BYTES || position >= logSize) return null;
    if (previous >= 0 && (relative <= (index.offsetRelative[previous] as number) || position <= (index.offsetPosition[previous] as number))) return null;
    index.addOffset(relative, position, position);
  }
  const timeView = viewOf(timeBytes);
  for (let at = 0; at < timeBytes.length; at += TIME_ENTRY_BYTES) {
    const timestamp = getInt64(timeView, at);
    const relative = timeView.getUint32(at + 8, true);
    const previous = index.timeRelative.length - 1;
    if (timestamp === null || relative >= records) return null;
    if (previous >= 0 && (relative <= (index.timeRelative[previous] as number) || timestamp <= (index.timeTimestamp[previous] as number))) return null;
    index.addTime(timestamp, relative, 0);
  }
  index.offsetWritten = index.offsetRelative.length;
  index.timeWritten = index.timeRelative.length;
  if (index.timeRelative.length > 0 && minTimestamp > (index.timeTimestamp[index.timeTimestamp.length - 1] as number)) return null;
  return { index, minTimestamp };
}

/**
 * The payload of a sealed index file (`prefixBytes` of fields, then whole entries), or
 * null when it is missing, too large or damaged.
 */
function readSealedFile(io: Io, path: string, format: FrameFormat, entryBytes: number, prefixBytes: number, logSize: number): Uint8Array | null {
  return sealedPayload(readFramePayload(io, path, format, sealedPayloadMax(format, entryBytes, prefixBytes, logSize)), entryBytes, prefixBytes);
}

/** A log of `logSize` bytes holds at most this many records, hence index entries: the most its index payload can be. */
function sealedPayloadMax(format: FrameFormat, entryBytes: number, prefixBytes: number, logSize: number): number {
  return Math.min(format.payloadBytesMax, prefixBytes + Math.floor(logSize / BATCH_FRAME_BYTES_MIN + 1) * entryBytes);
}

/** `payload` when it is `prefixBytes` of fields then whole entries, else null. */
function sealedPayload(payload: Uint8Array | null, entryBytes: number, prefixBytes: number): Uint8Array | null {
  return payload !== null && payload.length >= prefixBytes && (payload.length - prefixBytes) % entryBytes === 0 ? payload : null;
}

function decodeOrNull(bytes: Uint8Array, format: FrameFormat): Uint8Array | null {
  try {
    return decodeFrame(bytes, format, { path: '' });
  } catch {
    return null;
  }
}

/** The payload of the one frame a file holds, or null when it is missing, larger than `payloadMax` or damaged. */
function readFramePayload(io: Io, path: string, format: FrameFormat, payloadMax: number): Uint8Array | null {
  const stat = io.stat(path);
  if (stat === null || !stat.isFile || stat.size > payloadMax + FRAME_OVERHEAD_BYTES) return null;
  const file = io.open(path);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(stat.size);
    if (file.readSync(bytes, 0) !== stat.size) return null;
  } finally {
    file.closeSync();
  }
  return decodeOrNull(bytes, format);
}

/**
 * Whether either index file of a segment holds a whole, checksummed sealed frame, whatever
 * its entries say. Sealed frames are written only once the whole log and the next
 * segment's directory entry are durable, so on open this proves the segment was made
 * durable as sealed, whatever became of its index: a log that then disagrees with the
 * next segment's base offset is damaged, never an unsynced tail.
 */
export function sealedFrameWritten(io: Io, segment: Segment): boolean {
  return (
    readFramePayload(io, segment.paths.offsetIndex, OFFSET_INDEX_FORMAT, OFFSET_INDEX_FORMAT.payloadBytesMax) !== null ||
    readFramePayload(io, segment.paths.timeIndex, TIME_INDEX_FORMAT, TIME_INDEX_FORMAT.payloadBytesMax) !== null
  );
}

/**
 * The two sealed index files' contents: one frame of entries each; the time index's
 * payload starts with the segment's smallest timestamp (the entries keep maximums only).
 */
export function sealedIndexFrames(segment: Segment): { offset: Uint8Array; time: Uint8Array } {
  const index = segment.index;
  const entries = encodeTimeEntries(index, 0, index.timeRelative.length);
  const timePayload = new Uint8Array(MIN_TIMESTAMP_BYTES + entries.length);
  setInt64(viewOf(timePayload), 0, segment.minTimestamp ?? 0);
  timePayload.set(entries, MIN_TIMESTAMP_BYTES);
  return {
    offset: encodeFrame(encodeOffsetEntries(index, 0, index.offsetRelative.length), OFFSET_INDEX_FORMAT),
    time: encodeFrame(timePayload, TIME_INDEX_FORMAT),
  };
}

/**
 * The active segment's index files, created by the first flush after its roll (before that
 * flush syncs the directory, so their entries become durable with the segment's own) rather
 * than by the append that rolled. A segment sealed before any flush reached it gets them
 * when its sealed frames are written: a batch that rolls a thousand tiny segments holds no
 * index file open for each.
 */
export function ensureIndexFiles(io: Io, segment: Segment): void {
  if (segment.indexFiles === null && !segment.sealed) openIndexFiles(io, segment, true);
}

/**
 * Replaces a sealed segment's index files with one frame each and makes them durable, the
 * two datasyncs side by side, then closes them. The log must already be durable, and the
 * next segment's directory entry too: open takes a sealed frame as proof of both. A crash
 * part-way leaves a file that fails its CRC or its size, which open rebuilds.
 */
export async function rewriteIndexFiles(io: Io, segment: Segment): Promise<void> {
  const { files, created } = writeSealedFrames(io, segment);
  try {
    // A file created here is a new directory entry: it is synced with the data.
    await Promise.all([...files.map((file) => file.datasync()), created ? io.syncDir(parentDir(segment.paths.offsetIndex)) : undefined]);
  } finally {
    for (const file of files) file.closeSync();
  }
  markIndexDurable(segment);
}

/** `rewriteIndexFiles` on the calling thread (the store's `syncSync`). */
export function rewriteIndexFilesSync(io: Io, segment: Segment): void {
  const { files, created } = writeSealedFrames(io, segment);
  try {
    for (const file of files) file.datasyncSync();
    if (created) io.syncDirSync(parentDir(segment.paths.offsetIndex));
  } finally {
    for (const file of files) file.closeSync();
  }
  markIndexDurable(segment);
}

/**
 * Writes the sealed frames, each over its file's entries (cut to nothing first, so a crash
 * leaves a prefix of the frame or of the entries, never the two mixed): through the files
 * the segment has open, or through files opened (created when missing) here, one after
 * the other, so that a file that cannot be opened leaves the other as it was.
 */
function writeSealedFrames(io: Io, segment: Segment): { files: IoFile[]; created: boolean } {
  const frames = sealedIndexFrames(segment);
  const open = segment.indexFiles;
  segment.indexFiles = null;
  const targets = [
    { path: segment.paths.offsetIndex, frame: frames.offset, file: open?.offset ?? null },
    { path: segment.paths.timeIndex, frame: frames.time, file: open?.time ?? null },
  ];
  const files: IoFile[] = [];
  let created = false;
  try {
    for (const target of targets) {
      let file = target.file;
      if (file === null) {
        created ||= io.stat(target.path) === null;
        file = io.open(target.path, { create: true, truncate: true });
      } else {
        file.setLengthSync(0);
      }
      files.push(file);
      file.writeSync(target.frame, 0);
    }
  } catch (error) {
    for (const file of files) file.closeSync();
    for (const target of targets.slice(files.length)) target.file?.closeSync();
    throw error;
  }
  return { files, created };
}

function markIndexDurable(segment: Segment): void {
  segment.index.offsetWritten = segment.index.offsetRelative.length;
  segment.index.timeWritten = segment.index.timeRelative.length;
  segment.indexDurable = true;
  // Here, not at the roll: packing a large index (a 1 GiB segment's is 262,144 entries) takes milliseconds.
  segment.index.freeze();
}
