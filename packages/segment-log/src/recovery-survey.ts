import { checkFrameAt, findNextValidFrame, isKeelError, type Io } from '@keel/core';
import { HEADER_BYTES, HEADER_FLAG_SEALED_DURABLE, HEADER_FORMAT, BATCH_FORMAT, checkHeaderPayload, headerFlags } from './format.js';
import { loadIndexFiles, sealedFrameWritten } from './index-files.js';
import type { NormalizedOptions } from './options.js';
import { Segment, SparseIndex, lastAtOrBelow } from './segment.js';
import { headerFrame, refuseOlderFormat } from './segment-files.js';
import { preparedFrame } from './prepared-segment.js';
import { corruptAt, scanRecords } from './segment-scan.js';
import { verifySegment } from './verify.js';

/**
 * Open's read-only survey of the segments it found, oldest first. A roll makes the sealed
 * segment, the new segment's header and its directory entry durable in the next flush,
 * not at once, so after a crash the newest sealed segments may end early: but then
 * nothing after them was ever acknowledged (every flush makes all of that durable before
 * it claims an offset in a later segment). The survey finds the first segment that is
 * not whole and makes it the active one; every segment after it is set aside.
 *
 * What proves a sealed segment whole: index files that hold their sealed frames and agree
 * with the log, or, when they are missing or stale, a read of the whole log that ends
 * cleanly with exactly the records the next segment's base offset calls for. Sealed
 * frames are written only once the whole log and the next segment's directory entry are
 * durable: a log with a sealed frame that does not agree is damage to durable data and is
 * refused, never cut. Those frames come after the flush that acknowledges records in the
 * next segment; the sealed-offset checkpoint, written once the sealed logs were durable
 * and made durable before that acknowledgement, proves the same in between.
 */
export interface Survey {
  /** Sealed segments that stay, oldest first. */
  sealed: Segment[];
  /** Those of them read in full: their log is synced and their index files rewritten. */
  rescanned: Segment[];
  /** The segment that takes appends (still to be recovered), or null in an empty directory. */
  active: { segment: Segment; header: HeaderState } | null;
  /** Segments after the active one: nothing in them was acknowledged. */
  discarded: Segment[];
}

export type HeaderState = 'ok' | 'empty' | 'torn';

type SealedVerdict = 'whole' | 'rescanned' | 'ends-early' | 'not-whole';

/**
 * `sealedThrough` is the offset the sealed-offset checkpoint names (null: none): a segment
 * ending at or below it was sealed durably, as one with a sealed frame was.
 */
export function surveySegments(io: Io, found: readonly Segment[], options: NormalizedOptions, sealedThrough: number | null): Survey {
  const survey: Survey = { sealed: [], rescanned: [], active: null, discarded: [] };
  for (const [position, segment] of found.entries()) {
    if (survey.active !== null) {
      assertOurs(segment);
      survey.discarded.push(segment);
      continue;
    }
    const header = classifyHeader(segment, options);
    const next = found[position + 1];
    // Its sealed frames were written after its log, header included, was durable: damage.
    if (header !== 'ok' && next !== undefined && sealedDurably(io, segment, next, sealedThrough)) throw corruptAt(segment, 0, 'the header of a segment sealed durably is damaged');
    if (next === undefined || header !== 'ok') {
      survey.active = { segment, header };
      continue;
    }
    const verdict = surveySealed(io, segment, next, options, sealedThrough);
    if (verdict === 'whole' || verdict === 'rescanned') survey.sealed.push(segment);
    else survey.active = { segment, header };
    if (verdict === 'rescanned') survey.rescanned.push(segment);
  }
  return survey;
}

function readHeaderWindow(segment: Segment): Uint8Array {
  const window = new Uint8Array(Math.min(HEADER_BYTES, segment.log.sizeSync()));
  segment.log.readSync(window, 0);
  return window;
}

/**
 * Whether every byte of `window` is what a torn write of the expected header leaves: the
 * header's byte (with its flag or without) or zero, or the prepared frame's where a roll wrote the header over a
 * prepared file (see prepared-segment.ts).
 */
function looksLikeTornHeader(window: Uint8Array, segment: Segment): boolean {
  const expected = headerFrame(segment.baseOffset, segment.storeId);
  const flagged = headerFrame(segment.baseOffset, segment.storeId, HEADER_FLAG_SEALED_DURABLE);
  const prepared = preparedFrame(segment.storeId);
  return window.every((byte, index) => byte === expected[index] || byte === flagged[index] || byte === 0 || byte === prepared[index]);
}

/**
 * A segment's header is written before any record, and synced with them: a segment whose
 * header is not whole is empty, or torn before it was ever synced (each byte the header's
 * or zero, with no record anywhere after), or not ours.
 */
function classifyHeader(segment: Segment, options: NormalizedOptions): HeaderState {
  const size = segment.log.sizeSync();
  if (size === 0) return 'empty';
  const window = readHeaderWindow(segment);
  const check = checkFrameAt(window, 0, HEADER_FORMAT);
  if (check.ok && check.frameBytes === HEADER_BYTES) {
    checkHeaderPayload(window.subarray(8, 8 + check.payloadLength), segment.baseOffset, segment.paths.log, segment.storeId);
    return 'ok';
  }
  if (check.ok) refuseOlderFormat(segment, window.subarray(8, 8 + check.payloadLength));
  if (looksLikeTornHeader(window, segment) && findNextValidFrame(segment.log, BATCH_FORMAT, 0, size) === null) {
    if (options.recovery === 'strict') throw corruptAt(segment, 0, 'torn segment header; opened strict, nothing was changed');
    return 'torn';
  }
  throw corruptAt(segment, 0, 'no segment header; the file is not ours or is damaged, and was left untouched');
}

/** A segment to set aside must still be ours: a whole header for its name, or what a torn write of one leaves. */
function assertOurs(segment: Segment): void {
  const window = readHeaderWindow(segment);
  const check = checkFrameAt(window, 0, HEADER_FORMAT);
  if (check.ok && check.frameBytes === HEADER_BYTES) {
    checkHeaderPayload(window.subarray(8, 8 + check.payloadLength), segment.baseOffset, segment.paths.log, segment.storeId);
    return;
  }
  if (!looksLikeTornHeader(window, segment)) throw corruptAt(segment, 0, 'no segment header; the file is not ours or is damaged, and was left untouched');
}

/**
 * Loads a sealed segment and says whether it is whole. `whole`: its sealed index agrees
 * with the log. `rescanned`: the log, read in full, is whole and the index files must be
 * rewritten. `ends-early` and `not-whole`: the log ends cleanly before the next segment's
 * base offset, or does not end cleanly, and no sealed frame says it was ever made durable
 * (so neither was anything after it).
 */
function surveySealed(io: Io, segment: Segment, next: Segment, options: NormalizedOptions, sealedThrough: number | null): SealedVerdict {
  const nextBase = next.baseOffset;
  const expected = nextBase - segment.baseOffset;
  const fileSize = segment.log.sizeSync();
  if (expected <= 0) throw corruptAt(segment, 0, `segment overlaps the next one at ${nextBase}`);
  segment.sealed = true;
  const loaded = loadIndexFiles(io, segment, fileSize, expected);
  if (loaded !== null && recordsAgreeingWithIndex(segment, loaded.index, fileSize) === expected) {
    adoptIndex(segment, loaded.index, fileSize, expected, loaded.minTimestamp);
    if (!options.verifyOnOpen) return 'whole';
    try {
      verifySegment(segment);
      return 'whole';
    } catch (error) {
      // Damage in the log is refused; an index that disagrees with a sound log is rebuilt.
      if (!isKeelError(error, 'KEEL_CORRUPT') || error.path === segment.paths.log) throw error;
    }
  }
  return rescan(segment, fileSize, expected, options, () => sealedDurably(io, segment, next, sealedThrough));
}

/**
 * Whether open holds proof that the segment was made durable whole, up to the next
 * segment's base offset: the checkpoint names that offset or a later one, an index file
 * holds a sealed frame, or the next segment's whole header says every segment before it
 * was durable (HEADER_FLAG_SEALED_DURABLE). Each is written only once the whole log was
 * durable.
 */
function sealedDurably(io: Io, segment: Segment, next: Segment, sealedThrough: number | null): boolean {
  return (sealedThrough !== null && next.baseOffset <= sealedThrough) || sealedFrameWritten(io, segment) || headerVouches(next);
}

/** Whether the segment's header is whole, this log's and its own, and flagged HEADER_FLAG_SEALED_DURABLE. */
function headerVouches(segment: Segment): boolean {
  const window = readHeaderWindow(segment);
  const check = checkFrameAt(window, 0, HEADER_FORMAT);
  if (!check.ok || check.frameBytes !== HEADER_BYTES) return false;
  const payload = window.subarray(8, 8 + check.payloadLength);
  try {
    checkHeaderPayload(payload, segment.baseOffset, segment.paths.log, segment.storeId);
  } catch {
    // Not a header this log wrote for that segment: it vouches for nothing (its own survey says what it is).
    return false;
  }
  return (headerFlags(payload) & HEADER_FLAG_SEALED_DURABLE) !== 0;
}

/**
 * Reads the whole log of a sealed segment its index could not vouch for. A log that does
 * not hold exactly the records up to the next segment is refused when `durably` proves it
 * was made durable (damage), and is the end of what survived otherwise.
 */
function rescan(segment: Segment, fileSize: number, expected: number, options: NormalizedOptions, durably: () => boolean): SealedVerdict {
  resetToEmpty(segment);
  const result = scanRecords(segment, HEADER_BYTES, segment.baseOffset, fileSize, (record) => {
    segment.observe(record.timestamp, record.position, record.end, options.indexIntervalBytes);
  }, 1 << 20);
  const whole = result.misnumberedAt === null && result.tailState === 'clean-end' && result.end === fileSize;
  if (whole && segment.records === expected) {
    segment.addSealTimeEntry();
    return 'rescanned';
  }
  if (result.misnumberedAt !== null && durably()) throw corruptAt(segment, result.misnumberedAt, `record does not carry offset ${segment.nextOffset}`);
  if (!whole && durably()) throw corruptAt(segment, result.end, `sealed segment damaged (${result.tailState})`);
  if (whole && (segment.records > expected || durably())) {
    throw corruptAt(segment, result.end, `sealed segment holds ${segment.records} records but the next segment starts ${expected} offsets later`);
  }
  return whole ? 'ends-early' : 'not-whole';
}

function resetToEmpty(segment: Segment): void {
  segment.index = new SparseIndex();
  segment.records = 0;
  segment.size = HEADER_BYTES;
  segment.minTimestamp = undefined;
  segment.maxTimestamp = -Infinity;
  segment.maxTimestampRelative = -1;
  segment.firstTimestamp = undefined;
  segment.lastIndexedPosition = HEADER_BYTES;
}

/**
 * The cheap check of a sealed segment: the records after the last offset-index entry must
 * run to the end of the file, and the last time-index entry must name a record with that
 * timestamp, the largest one. Returns how many records the segment holds, or null when
 * the index and the log disagree.
 */
function recordsAgreeingWithIndex(segment: Segment, index: SparseIndex, fileSize: number): number | null {
  const lastTime = index.timeRelative.length - 1;
  if (lastTime < 0) return null;
  const timeRelative = index.timeRelative[lastTime] as number;
  const timeTimestamp = index.timeTimestamp[lastTime] as number;
  const lastOffset = index.offsetRelative.length - 1;
  const startRelative = lastOffset < 0 ? 0 : (index.offsetRelative[lastOffset] as number);
  let timestampOfNamed: number | undefined;
  let tailMax = -Infinity;
  let tailCount = 0;
  const tail = scanRecords(segment, index.positionFor(startRelative), segment.baseOffset + startRelative, fileSize, (record) => {
    tailCount++;
    tailMax = Math.max(tailMax, record.timestamp);
    if (record.offset === segment.baseOffset + timeRelative) timestampOfNamed = record.timestamp;
  });
  if (tail.misnumberedAt !== null || tail.tailState !== 'clean-end' || tail.end !== fileSize || tailMax > timeTimestamp) return null;
  const records = startRelative + tailCount;
  if (timeRelative >= records) return null;
  if (timestampOfNamed === undefined) timestampOfNamed = timestampAt(segment, index, timeRelative);
  return timestampOfNamed === timeTimestamp ? records : null;
}

function adoptIndex(segment: Segment, index: SparseIndex, fileSize: number, records: number, minTimestamp: number): void {
  const lastTime = index.timeRelative.length - 1;
  index.freeze();
  segment.index = index;
  segment.records = records;
  segment.size = fileSize;
  segment.durableBytes = fileSize;
  segment.indexDurable = true;
  segment.minTimestamp = minTimestamp;
  segment.maxTimestamp = index.timeTimestamp[lastTime] as number;
  segment.maxTimestampRelative = index.timeRelative[lastTime] as number;
}

function timestampAt(segment: Segment, index: SparseIndex, relative: number): number | undefined {
  const entry = lastAtOrBelow(index.offsetRelative, relative);
  const startRelative = entry < 0 ? 0 : (index.offsetRelative[entry] as number);
  let found: number | undefined;
  scanRecords(segment, index.positionFor(relative), segment.baseOffset + startRelative, segment.log.sizeSync(), (record) => {
    if (record.offset < segment.baseOffset + relative) return true;
    found = record.timestamp;
    return false;
  });
  return found;
}
