import { describe, expect, it } from 'vitest';

import { MULTIPART_THRESHOLD_BYTES_DEFAULT, PART_BYTES_DEFAULT, PART_BYTES_MIN, normalizeOptions } from './options.js';

describe('options', () => {
  it('fills in defaults', () => {
    const options = normalizeOptions({ bucket: 'b' });
    expect(options).toMatchObject({
      bucket: 'b', prefix: '', region: 'us-east-1', forcePathStyle: false, partBytes: PART_BYTES_DEFAULT,
      multipartThresholdBytes: MULTIPART_THRESHOLD_BYTES_DEFAULT,
    });
  });

  it('keeps the multipart threshold at least one part', () => {
    const options = normalizeOptions({ bucket: 'b', partBytes: 64 * 1024 * 1024 });
    expect(options.multipartThresholdBytes).toBe(64 * 1024 * 1024);
    expect(() => normalizeOptions({ bucket: 'b', partBytes: 64 * 1024 * 1024, multipartThresholdBytes: PART_BYTES_MIN })).toThrow(
      expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }),
    );
  });

  it('refuses what S3 or keel cannot work with', () => {
    for (const options of [
      {},
      { bucket: '' },
      { bucket: 'b', prefix: '/x' },
      { bucket: 'b', endpoint: 'not a url' },
      { bucket: 'b', partBytes: PART_BYTES_MIN - 1 },
      { bucket: 'b', partConcurrency: 0 },
      { bucket: 'b', attemptsMax: 0 },
      { bucket: 'b', requestTimeoutMs: 1.5 },
      { bucket: 'b', backoffBaseMs: 100, backoffMaxMs: 50 },
    ]) {
      expect(() => normalizeOptions(options as never)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    }
  });
});
