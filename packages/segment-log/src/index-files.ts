import type { Io, IoFile } from '@keel/core';
import { HEADER_BYTES, OFFSET_ENTRY_BYTES, RECORD_FRAME_BYTES_MIN, TIME_ENTRY_BYTES, getInt64, setInt64, viewOf } from './format.js';
import { SparseIndex, type Segment } from './segment.js';

/**
 * `.index`: relative offset u32 LE + position u32 LE per entry.
 * `.timeindex`: timestamp i64 LE + relative offset u32 LE per entry.
 * No header: the files are caches, checked against the log on open and rebuilt from it.
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
 * Appends to the index files every entry whose record is durable (guard <= durableBytes)
 * and that is not there yet. Called after the log's fdatasync, never before.
 */
export function writeDurableEntries(segment: Segment): void {
  const files = segment.indexFiles;
  if (!files) return;
  const index = segment.index;
  let offsetEnd = index.offsetWritten;
  while (offsetEnd < index.offsetGuard.length && (index.offsetGuard[offsetEnd] as number) <= segment.durableBytes) offsetEnd++;
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
 * and record count: whole entries, strictly increasing, in range. Returns null when a
 * file is missing or fails a check (the caller rebuilds from the log). The file sizes
 * are bounded by what the log could index before anything is allocated.
 */
export function loadIndexFiles(io: Io, segment: Segment, logSize: number, records: number): SparseIndex | null {
  const offsetBytes = readBounded(io, segment.paths.offsetIndex, OFFSET_ENTRY_BYTES, logSize);
  const timeBytes = readBounded(io, segment.paths.timeIndex, TIME_ENTRY_BYTES, logSize);
  if (offsetBytes === null || timeBytes === null) return null;
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
  return index;
}

function readBounded(io: Io, path: string, entryBytes: number, logSize: number): Uint8Array | null {
  const stat = io.stat(path);
  if (stat === null || !stat.isFile) return null;
  // A log of `logSize` bytes holds at most this many records, hence index entries.
  const bytesMax = Math.floor(logSize / RECORD_FRAME_BYTES_MIN + 1) * entryBytes;
  if (stat.size % entryBytes !== 0 || stat.size > bytesMax) return null;
  const file = io.open(path);
  try {
    const bytes = new Uint8Array(stat.size);
    if (file.readSync(bytes, 0) !== stat.size) return null;
    return bytes;
  } finally {
    file.closeSync();
  }
}

/** Replaces both index files with every entry in memory, then makes them durable. */
export async function rewriteIndexFiles(io: Io, segment: Segment): Promise<void> {
  const index = segment.index;
  const offsetFile = io.open(segment.paths.offsetIndex, { create: true, truncate: true });
  try {
    offsetFile.writeSync(encodeOffsetEntries(index, 0, index.offsetRelative.length), 0);
    await offsetFile.datasync();
  } finally {
    offsetFile.closeSync();
  }
  const timeFile: IoFile = io.open(segment.paths.timeIndex, { create: true, truncate: true });
  try {
    timeFile.writeSync(encodeTimeEntries(index, 0, index.timeRelative.length), 0);
    await timeFile.datasync();
  } finally {
    timeFile.closeSync();
  }
  index.offsetWritten = index.offsetRelative.length;
  index.timeWritten = index.timeRelative.length;
}
