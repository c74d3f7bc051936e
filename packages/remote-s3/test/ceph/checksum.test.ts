import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { METADATA_BYTES, METADATA_CRC32C, S3RemoteStore } from '../../src/index.js';
import { createBucket, openStore, rawClient } from './s3.js';

const client = rawClient();
let bucket: string;
let store: S3RemoteStore;

beforeAll(async () => {
  bucket = await createBucket(client);
  store = openStore(bucket);
});

afterAll(async () => {
  await store.close();
  client.destroy();
});

/** Puts `bytes` under `key` with other bytes' keel metadata, as damage or a buggy writer would. */
async function plant(key: string, bytes: Uint8Array, metadata: Record<string, string>): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, Metadata: metadata }));
}

async function metadataOf(key: string): Promise<Record<string, string>> {
  return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
}

describe('checksums', () => {
  it('a whole read of bytes that do not match the object\'s CRC-32C is KEEL_CORRUPT', async () => {
    const bytes = randomBytes(64 * 1024);
    await store.put('original', bytes);
    const tampered = Buffer.from(bytes);
    tampered[40_000]! ^= 0x04;
    await plant('tampered', tampered, await metadataOf('original'));

    await expect(store.get('tampered')).rejects.toMatchObject({ code: 'KEEL_CORRUPT', path: `s3://${bucket}/tampered` });
    // A range that covers the whole object is checked like a whole read.
    await expect(store.getRange('tampered', 0, bytes.length)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    // A partial range cannot be checked against the whole object's checksum: it is
    // returned as stored (callers check it with their own framing).
    expect((await store.getRange('tampered', 39_990, 20)).equals(tampered.subarray(39_990, 40_010))).toBe(true);
    // Nothing is retried: corruption is a verdict, not an outage.
    expect(store.stats().retries).toBe(0);
  });

  it('a length that does not match the metadata is KEEL_CORRUPT', async () => {
    const bytes = randomBytes(1000);
    await store.put('full', bytes);
    await plant('short', bytes.subarray(0, 999), await metadataOf('full'));
    await expect(store.get('short')).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    await expect(store.head('short')).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    await expect(store.getRange('short', 0, 10)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
  });

  it('damaged metadata is KEEL_CORRUPT', async () => {
    const bytes = randomBytes(100);
    await store.put('good', bytes);
    const metadata = await metadataOf('good');
    await plant('bad-crc', bytes, { ...metadata, [METADATA_CRC32C]: 'zzzzzzzz' });
    await plant('bad-length', bytes, { ...metadata, [METADATA_BYTES]: '-100' });
    await plant('huge-length', bytes, { ...metadata, [METADATA_BYTES]: String(2 ** 40) });
    for (const key of ['bad-crc', 'bad-length', 'huge-length']) {
      await expect(store.get(key)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    }
  });

  it('the store refuses a body that does not match the SHA-256 signed for it', async () => {
    // What a body damaged between hashing and the wire looks like to the store: the request
    // is signed over the real bytes' SHA-256, then one bit of the body flips.
    const damaging = rawClient();
    type Handler = (args: { request: { body?: unknown } }) => Promise<unknown>;
    const damage = (next: Handler): Handler => async (args) => {
      const request = args.request;
      if (request.body instanceof Uint8Array) {
        const damaged = Buffer.from(request.body);
        damaged[10]! ^= 0x01;
        request.body = damaged;
      }
      return next(args);
    };
    damaging.middlewareStack.addRelativeTo(damage as unknown as Parameters<S3Client['middlewareStack']['addRelativeTo']>[0], { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'damageBodyAfterSigning' });
    try {
      await expect(
        damaging.send(new PutObjectCommand({ Bucket: bucket, Key: 'signed', Body: randomBytes(100_000) })),
      ).rejects.toMatchObject({ name: 'XAmzContentSHA256Mismatch' });
      await expect(store.head('signed')).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    } finally {
      damaging.destroy();
    }
  });
});
