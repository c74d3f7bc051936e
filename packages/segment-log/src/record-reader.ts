import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, crc32c } from '@keel/core';
import { RECORD_FORMAT, RECORD_FRAME_BYTES_MAX, RECORD_MAGIC, getUint64, viewOf } from './format.js';
import type { LogRecord } from './record.js';
import { decodeRecordAt } from './record-codec.js';
import type { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

export interface CollectLimits {
  maxBytes: number;
  maxRecords: number;
}

/**
 * The read path. Reads the segment in chunks into fresh buffers that are never reused,
 * checks each frame (magic, bounded length, CRC-32C, offset), and returns records whose
 * byte arrays are views of those buffers: one read and no per-record copy, yet every
 * record stays valid after later appends, rolls and retention because nothing else
 * holds the buffers. Records before `from` (between the index entry and the target) are
 * checked and skipped. Anything that is not a whole valid frame inside `to` is corruption.
 */
export function collectRecords(
  segment: Segment,
  position: number,
  firstOffset: number,
  from: number,
  out: LogRecord[],
  limits: CollectLimits,
  chunkBytes: number,
  state: { bytes: number },
): boolean {
  const to = segment.size;
  let expected = firstOffset;
  while (position < to) {
    // A plain Uint8Array over unzeroed memory: its subarrays are cheaper than a Buffer's.
    const unzeroed = Buffer.allocUnsafeSlow(Math.min(chunkBytes, to - position));
    const buffer = new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, unzeroed.length);
    const filled = segment.log.readSync(buffer, position);
    const view = viewOf(buffer);
    let at = 0;
    for (;;) {
      if (at + FRAME_HEADER_BYTES > filled) break;
      if (view.getUint32(at, false) !== RECORD_MAGIC) throw corruptAt(segment, position + at, 'bad magic where a record frame should start');
      const payloadLength = view.getUint32(at + 4, true);
      if (payloadLength > RECORD_FORMAT.payloadBytesMax) throw corruptAt(segment, position + at, `frame length ${payloadLength} exceeds the maximum`);
      const frameEnd = at + payloadLength + FRAME_OVERHEAD_BYTES;
      if (frameEnd > filled) break;
      const payloadStart = at + FRAME_HEADER_BYTES;
      const crcAt = payloadStart + payloadLength;
      if (crc32c(buffer.subarray(at, crcAt)) !== view.getUint32(crcAt, true)) throw corruptAt(segment, position + at, 'checksum mismatch');
      if (getUint64(view, payloadStart) !== expected) throw corruptAt(segment, position + at, `record does not carry offset ${expected}`);
      if (expected >= from) {
        const frameBytes = frameEnd - at;
        if (out.length > 0 && state.bytes + frameBytes > limits.maxBytes) return true;
        out.push(decodeRecordAt(buffer, view, payloadStart, crcAt, { path: segment.paths.log, offset: position + at }));
        state.bytes += frameBytes;
        if (out.length >= limits.maxRecords) return true;
      }
      expected++;
      at = frameEnd;
    }
    if (at === 0) {
      // Not even one frame fits the chunk: grow it to the announced (bounded) frame size.
      const announced = filled >= FRAME_HEADER_BYTES ? view.getUint32(4, true) + FRAME_OVERHEAD_BYTES : to - position;
      if (filled < Math.min(chunkBytes, to - position) || announced > RECORD_FRAME_BYTES_MAX || announced <= chunkBytes) {
        throw corruptAt(segment, position, 'frame runs past the end of the segment');
      }
      chunkBytes = announced;
      continue;
    }
    position += at;
  }
  if (expected !== segment.nextOffset) throw corruptAt(segment, position, `expected the record with offset ${expected}`);
  return false;
}
