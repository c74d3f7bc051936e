import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, checkFrameAt, type FrameFormat } from './frame.js';
import { SCAN_CHUNK_BYTES_DEFAULT, type FrameSource } from './frame-scanner.js';

/**
 * How many bytes a search past damage may check in candidate frames, per byte it searches.
 * Every candidate (a full magic and a bounded length that fits) must be read and
 * checksummed to its end, and candidates can overlap: a crafted tail with one every
 * 8 bytes, each reaching the end of the file, would cost (size / 8) × size. The budget
 * keeps recovery linear; natural damage (torn, zeroed or reordered writes, stale frames)
 * has few overlapping candidates and is searched far inside it.
 */
export const FRAME_SEARCH_CHECK_FACTOR = 4;
/** A budget every search gets whatever its size, so that short tails are always searched to the end. */
export const FRAME_SEARCH_CHECK_BYTES_MIN = SCAN_CHUNK_BYTES_DEFAULT;

export interface FrameSearch {
  /** The first whole, checksum-valid frame after `from`, or null. */
  offset: number | null;
  /**
   * The candidate at which the budget ran out, or null when the search finished: a
   * valid frame may start there or later, so nothing after `from` is proven garbage.
   */
  gaveUpAt: number | null;
  /** Bytes read to check candidates (their headers come from the search's own reads). */
  checkedBytes: number;
}

/**
 * Looks for a whole, checksum-valid frame starting anywhere in (from, to]. Recovery uses it
 * to tell a torn tail (nothing valid follows) from corruption in the middle of a log,
 * which must never be silently cut away. Reads at most (to − from) bytes to find
 * candidates and at most FRAME_SEARCH_CHECK_FACTOR × (to − from) + FRAME_SEARCH_CHECK_BYTES_MIN
 * bytes to check them; past that it gives up and says where.
 */
export function searchNextValidFrame(source: FrameSource, format: FrameFormat, from: number, to = source.sizeSync()): FrameSearch {
  const budget = FRAME_SEARCH_CHECK_FACTOR * Math.max(0, to - from) + FRAME_SEARCH_CHECK_BYTES_MIN;
  const search: FrameSearch = { offset: null, gaveUpAt: null, checkedBytes: 0 };
  const first = (format.magic >>> 24) & 0xff;
  const chunk = new Uint8Array(Math.max(FRAME_OVERHEAD_BYTES, Math.min(SCAN_CHUNK_BYTES_DEFAULT, to - from)));
  for (let start = from; start < to - FRAME_OVERHEAD_BYTES + 1; ) {
    const filled = source.readSync(chunk.subarray(0, Math.min(chunk.length, to - start)), start);
    const searchEnd = filled - FRAME_HEADER_BYTES + 1;
    for (let i = chunk.indexOf(first); i !== -1 && i < searchEnd; i = chunk.indexOf(first, i + 1)) {
      const total = candidateBytes(chunk.subarray(i, i + FRAME_HEADER_BYTES), format, start + i, to);
      if (total === 0) continue;
      if (search.checkedBytes + total > budget) {
        search.gaveUpAt = start + i;
        return search;
      }
      search.checkedBytes += total;
      if (isValidFrameAt(source, format, start + i, total)) {
        search.offset = start + i;
        return search;
      }
    }
    if (filled < chunk.length) break;
    start += Math.max(1, filled - FRAME_HEADER_BYTES);
  }
  return search;
}

/**
 * The first offset after `from` where a valid frame starts, or may start (where a
 * bounded search gave up): null only when nothing valid can follow.
 */
export function findNextValidFrame(source: FrameSource, format: FrameFormat, from: number, to = source.sizeSync()): number | null {
  const search = searchNextValidFrame(source, format, from, to);
  return search.offset ?? search.gaveUpAt;
}

/** Bytes of the frame a header announces when it could be whole before `to`, else 0. */
function candidateBytes(header: Uint8Array, format: FrameFormat, offset: number, to: number): number {
  const probe = checkFrameAt(header, 0, format);
  if (probe.ok || probe.state !== 'truncated-payload') return 0;
  const total = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(4, true) + FRAME_OVERHEAD_BYTES;
  return offset + total > to ? 0 : total;
}

function isValidFrameAt(source: FrameSource, format: FrameFormat, offset: number, total: number): boolean {
  const frame = new Uint8Array(total);
  if (source.readSync(frame, offset) < total) return false;
  return checkFrameAt(frame, 0, format).ok;
}
