import { describe, expect, it } from 'vitest';
import {
  REMOTE_KEY_BYTES_MAX, REMOTE_OBJECT_BYTES_MAX, assertRemoteKey, assertRemotePrefix, assertRemoteRange, crc32c,
  remoteChecksum, verifyRemoteBytes,
} from '../src/index.js';

describe('remote store helpers', () => {
  it('accepts object keys and refuses empty, over-long, control-character and folder-like ones', () => {
    for (const key of ['a', 'segments/00000000000000000000.log', 'ünï/cødé', 'x'.repeat(REMOTE_KEY_BYTES_MAX)]) {
      expect(() => assertRemoteKey(key)).not.toThrow();
    }
    for (const key of ['', '/a', 'a/', 'a//b', 'a/./b', '../a', 'a\nb', 'a\u0000b', 'é'.repeat(REMOTE_KEY_BYTES_MAX / 2 + 1), 7]) {
      expect(() => assertRemoteKey(key)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    }
  });

  it('accepts an empty prefix and one that ends with a slash', () => {
    for (const prefix of ['', 'a', 'a/', 'a/b/']) expect(() => assertRemotePrefix(prefix)).not.toThrow();
    for (const prefix of ['/', '//', 'a//', undefined]) {
      expect(() => assertRemotePrefix(prefix)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    }
  });

  it('bounds ranges before anything is allocated for them', () => {
    expect(() => assertRemoteRange(0, 1)).not.toThrow();
    expect(() => assertRemoteRange(2 ** 40, REMOTE_OBJECT_BYTES_MAX)).not.toThrow();
    expect(() => assertRemoteRange(0, 0)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    expect(() => assertRemoteRange(-1, 1)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    expect(() => assertRemoteRange(0, 1.5)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    expect(() => assertRemoteRange(0, REMOTE_OBJECT_BYTES_MAX + 1)).toThrow(expect.objectContaining({ code: 'KEEL_TOO_LARGE' }));
  });

  it('verifies length and CRC-32C, and names the object in the error', () => {
    const bytes = Buffer.from('a segment, offloaded');
    const expected = { bytes: bytes.length, checksum: remoteChecksum(bytes) };
    expect(expected.checksum).toBe(crc32c(bytes) >>> 0);
    expect(() => verifyRemoteBytes('s3://b/k', bytes, expected)).not.toThrow();

    const flipped = Buffer.from(bytes);
    flipped[3]! ^= 0x10;
    expect(() => verifyRemoteBytes('s3://b/k', flipped, expected)).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', path: 's3://b/k' }));
    expect(() => verifyRemoteBytes('s3://b/k', bytes.subarray(1), expected)).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT' }));
  });
});
