import { POSITION_MAX, badArgument, describeType, getSafeUint64, writeUint64 } from '@keel/core';
import { PAYLOAD_BYTES_MAX, SEGMENT_HEADER_BYTES, SEGMENT_NUMBER_MAX, SEGMENT_NUMBER_MIN } from './format.js';

/**
 * Where a payload lives: `offset` is the byte offset of its frame in segment `segment`
 * (the frame header, not the first payload byte), `length` the payload's byte count.
 */
export interface PayloadRef {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

/** version u8 (1), segment u32 LE, offset u64 LE, length u32 LE. */
export const PAYLOAD_REF_ENCODED_BYTES = 17;
export const PAYLOAD_REF_ENCODING_VERSION = 1;

/** Checks the shape and bounds of a ref without looking at disk; returns a clean copy. */
export function normalizeRef(value: unknown, name = 'ref'): PayloadRef {
  if (value === null || typeof value !== 'object') throw badArgument(`${name} must be a PayloadRef { segment, offset, length }, got ${describeType(value)}`);
  const { segment, offset, length } = value as Record<string, unknown>;
  if (!isIntegerIn(segment, SEGMENT_NUMBER_MIN, SEGMENT_NUMBER_MAX)) {
    throw badArgument(`${name}.segment must be an integer in [${SEGMENT_NUMBER_MIN}, ${SEGMENT_NUMBER_MAX}], got ${describeType(segment)}`);
  }
  if (!isIntegerIn(offset, SEGMENT_HEADER_BYTES, POSITION_MAX)) {
    throw badArgument(`${name}.offset must be an integer >= ${SEGMENT_HEADER_BYTES} (past the segment header), got ${describeType(offset)}`);
  }
  if (!isIntegerIn(length, 0, PAYLOAD_BYTES_MAX)) {
    throw badArgument(`${name}.length must be an integer in [0, ${PAYLOAD_BYTES_MAX}], got ${describeType(length)}`);
  }
  return { segment, offset, length };
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function encode(ref: PayloadRef): Uint8Array {
  const clean = normalizeRef(ref);
  const bytes = new Uint8Array(PAYLOAD_REF_ENCODED_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, PAYLOAD_REF_ENCODING_VERSION);
  view.setUint32(1, clean.segment, true);
  writeUint64(view, 5, clean.offset, 'a PayloadRef offset');
  view.setUint32(13, clean.length, true);
  return bytes;
}

function decode(bytes: Uint8Array): PayloadRef {
  if (!(bytes instanceof Uint8Array)) throw badArgument(`an encoded PayloadRef must be a Uint8Array, got ${describeType(bytes)}`);
  if (bytes.length !== PAYLOAD_REF_ENCODED_BYTES) {
    throw badArgument(`an encoded PayloadRef is ${PAYLOAD_REF_ENCODED_BYTES} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== PAYLOAD_REF_ENCODING_VERSION) throw badArgument(`unknown PayloadRef encoding version ${version}`);
  const offset = getSafeUint64(view, 5);
  if (offset === null) throw badArgument(`encoded PayloadRef offset ${view.getBigUint64(5, true)} is beyond ${POSITION_MAX}`);
  return normalizeRef({ segment: view.getUint32(1, true), offset, length: view.getUint32(13, true) }, 'decoded ref');
}

/** The key of compaction mappings: equal refs have equal keys. */
function key(ref: PayloadRef): string {
  const clean = normalizeRef(ref);
  return `${clean.segment}:${clean.offset}:${clean.length}`;
}

function equals(left: PayloadRef, right: PayloadRef): boolean {
  return left.segment === right.segment && left.offset === right.offset && left.length === right.length;
}

/** Serialisation helpers for storing refs elsewhere (a database row, an index). */
export const PayloadRef = Object.freeze({ encode, decode, key, equals, ENCODED_BYTES: PAYLOAD_REF_ENCODED_BYTES });
