import { createHash, createHmac, randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ThreadpoolSha256 } from './threadpool-sha256.js';

const sizes = fc.oneof(fc.nat(200), fc.integer({ min: 64 * 1024 - 2, max: 64 * 1024 + 2 }), fc.integer({ min: 100_000, max: 300_000 }));

async function digestOf(chunks: Uint8Array[], secret?: Uint8Array): Promise<Buffer> {
  const hash = new ThreadpoolSha256(secret);
  for (const chunk of chunks) hash.update(chunk);
  return Buffer.from(await hash.digest());
}

describe('ThreadpoolSha256', () => {
  it('agrees with node:crypto on SHA-256 and HMAC-SHA-256, inline and on the threadpool', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sizes, { maxLength: 3 }), fc.option(fc.uint8Array({ maxLength: 80 }), { nil: undefined }), async (lengths, secret) => {
        const chunks = lengths.map((length) => randomBytes(length));
        const expected = (secret === undefined ? createHash('sha256') : createHmac('sha256', secret));
        for (const chunk of chunks) expected.update(chunk);
        expect((await digestOf(chunks, secret)).toString('hex')).toBe(expected.digest('hex'));
      }),
      { numRuns: 60 },
    );
  });

  it('hashes strings as UTF-8, honours views, and starts over after reset', async () => {
    const hash = new ThreadpoolSha256('key');
    hash.update('stale');
    hash.reset();
    hash.update('grüße');
    expect(Buffer.from(await hash.digest()).toString('hex')).toBe(createHmac('sha256', 'key').update('grüße', 'utf8').digest('hex'));
    const backing = randomBytes(200_000);
    const view = new DataView(backing.buffer, backing.byteOffset + 10, 150_000);
    const viewed = new ThreadpoolSha256();
    viewed.update(view);
    expect(Buffer.from(await viewed.digest()).toString('hex')).toBe(createHash('sha256').update(backing.subarray(10, 150_010)).digest('hex'));
  });
});
