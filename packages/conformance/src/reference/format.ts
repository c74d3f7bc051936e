import { defineFrameFormat, type FrameFormat } from '@keel/core';

/**
 * The reference log's files, in one directory:
 *   <base, 20 digits>.log    frames (core layout, magic "KREF") holding one record each
 *   <base, 20 digits>.index  one frame, payload = u32 LE record count; written when the
 *                            segment is sealed, after its data is durable (a cache: rebuilt
 *                            when missing or damaged)
 *   LOCK                     held with an exclusive lock while open
 */
export const REFERENCE_FORMAT: FrameFormat = defineFrameFormat(0x4b52_4546, 1 << 20);
export const INDEX_FORMAT: FrameFormat = defineFrameFormat(0x4b52_4549, 4);
export const SEGMENT_BYTES_DEFAULT = 4096;
const BASE_DIGITS = 20;

export function segmentName(base: number): string {
  return `${String(base).padStart(BASE_DIGITS, '0')}.log`;
}

export function indexName(base: number): string {
  return `${String(base).padStart(BASE_DIGITS, '0')}.index`;
}

/** Base record numbers of the segments among `names`, ascending. */
export function segmentBases(names: readonly string[]): number[] {
  return names.filter((name) => /^\d{20}\.log$/.test(name)).map((name) => Number(name.slice(0, BASE_DIGITS))).sort((a, b) => a - b);
}

export function encodeCount(count: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, count, true);
  return payload;
}

export function decodeCount(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
}
