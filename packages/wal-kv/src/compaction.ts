import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, encodeFrame, joinPath, type Io, type IoFile } from '@keel/core';
import { Buffer } from 'node:buffer';
import {
  LOG_FORMAT_VERSION,
  LOG_HEADER_FRAME_BYTES,
  LOG_RECORD_FORMAT,
  OPERATION_PUT,
  TEMPORARY_SUFFIX,
  encodeLogHeader,
  encodeRecordPayload,
  logFileName,
  RECORD_COUNT_BYTES,
  operationBytes,
  type Operation,
} from './format.js';
import type { KeyIndex } from './key-index.js';
import { COMPACTION_RECORD_BYTES } from './limits.js';

export interface CompactedLog {
  file: IoFile;
  temporaryPath: string;
  finalPath: string;
  generation: number;
  end: number;
  lastFrameStart: number;
  /** The index slots of the live keys in log order, and where each value lives in the new log. */
  slots: Uint32Array;
  positions: Float64Array;
}

/**
 * Writes every live value into `wal-<generation>.log.tmp`, in the order of the old log
 * (so seqs stay increasing), each with its original seq. Runs synchronously so that the
 * index it copies cannot change underneath it; the caller then switches to the new file
 * and makes it durable before it renames it into place. Every value is verified against
 * its CRC as it is read: compaction never launders corruption into a fresh log.
 */
export function writeCompactedLog(
  io: Io,
  dir: string,
  generation: number,
  baseSeq: number,
  index: KeyIndex,
  readValue: (position: number, length: number) => Uint8Array,
): CompactedLog {
  const finalPath = joinPath(dir, logFileName(generation));
  const temporaryPath = finalPath + TEMPORARY_SUFFIX;
  const { keys, slots } = liveInLogOrder(index);
  const file = io.open(temporaryPath, { create: true, truncate: true });
  try {
    file.writeSync(encodeLogHeader({ version: LOG_FORMAT_VERSION, generation, baseSeq }), 0);
    const positions = new Float64Array(slots.length);
    let end = LOG_HEADER_FRAME_BYTES;
    let lastFrameStart = 0;
    for (let first = 0; first < slots.length; ) {
      const operations: Operation[] = [];
      let payloadBytes = RECORD_COUNT_BYTES;
      let next = first;
      while (next < slots.length && (operations.length === 0 || payloadBytes < COMPACTION_RECORD_BYTES)) {
        const slot = slots[next]!;
        const key = keys[next]!;
        const value = readValue(index.position(slot), index.length(slot));
        operations.push({ type: OPERATION_PUT, key, value });
        payloadBytes += operationBytes(key.length, value.length);
        next++;
      }
      const payload = Buffer.alloc(payloadBytes);
      const valueOffsets = encodeRecordPayload(payload, operations, (i) => index.seq(slots[first + i]!));
      file.writeSync(encodeFrame(payload, LOG_RECORD_FORMAT), end);
      for (let i = 0; i < operations.length; i++) positions[first + i] = end + FRAME_HEADER_BYTES + valueOffsets[i]!;
      lastFrameStart = end;
      end += payloadBytes + FRAME_OVERHEAD_BYTES;
      first = next;
    }
    return { file, temporaryPath, finalPath, generation, end, lastFrameStart, slots, positions };
  } catch (error) {
    file.closeSync();
    io.remove(temporaryPath);
    throw error;
  }
}

function liveInLogOrder(index: KeyIndex): { keys: string[]; slots: Uint32Array } {
  const keys: string[] = [];
  const unordered = new Uint32Array(index.size);
  let count = 0;
  for (const [key, slot] of index.slots) {
    keys.push(key);
    unordered[count++] = slot;
  }
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => index.position(unordered[a]!) - index.position(unordered[b]!));
  const orderedKeys = new Array<string>(count);
  const slots = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    orderedKeys[i] = keys[order[i]!]!;
    slots[i] = unordered[order[i]!]!;
  }
  return { keys: orderedKeys, slots };
}
