import { describe, expect, it } from 'vitest';

import { METADATA_BYTES, METADATA_CRC32C, METADATA_FORMAT, decodeMetadata, encodeMetadata } from './metadata.js';

describe('object metadata', () => {
  it('round-trips a description', () => {
    for (const description of [{ bytes: 0, checksum: 0 }, { bytes: 2 ** 32 - 1, checksum: 0xffff_ffff }, { bytes: 12345, checksum: 0x0000_00ab }]) {
      expect(decodeMetadata('s3://b/k', encodeMetadata(description))).toEqual(description);
    }
    expect(encodeMetadata({ bytes: 5, checksum: 0xab })).toEqual({ [METADATA_FORMAT]: '1', [METADATA_BYTES]: '5', [METADATA_CRC32C]: '000000ab' });
  });

  it('refuses missing, foreign and malformed metadata as KEEL_CORRUPT', () => {
    const good = encodeMetadata({ bytes: 5, checksum: 1 });
    for (const metadata of [
      undefined,
      {},
      { ...good, [METADATA_FORMAT]: '2' },
      { ...good, [METADATA_BYTES]: '' },
      { ...good, [METADATA_BYTES]: '05' },
      { ...good, [METADATA_BYTES]: '1e3' },
      { ...good, [METADATA_BYTES]: String(2 ** 32) },
      { ...good, [METADATA_CRC32C]: 'ABCDEF01' },
      { ...good, [METADATA_CRC32C]: '1' },
    ]) {
      expect(() => decodeMetadata('s3://b/k', metadata)).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', path: 's3://b/k' }));
    }
  });
});
