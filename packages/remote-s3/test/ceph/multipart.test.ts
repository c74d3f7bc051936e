import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { remoteChecksum } from '@keel/core';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PART_BYTES_DEFAULT, PART_BYTES_MIN, S3RemoteStore } from '../../src/index.js';
import { createBucket, openStore, rawClient } from './s3.js';

const MIB = 1024 * 1024;
const client = rawClient();
let bucket: string;

beforeAll(async () => {
  bucket = await createBucket(client);
});

afterAll(() => {
  client.destroy();
});

/** S3's ETag of a multipart object ends in "-<parts>". */
async function partsOf(key: string): Promise<number> {
  const etag = (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? '';
  const match = /-(\d+)"?$/.exec(etag);
  return match === null ? 1 : Number(match[1]);
}

async function openUploads(): Promise<number> {
  return (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
}

describe('multipart upload', () => {
  it('uploads an object over the threshold in parts, and reads it back verified', async () => {
    await using store = openStore(bucket, { partBytes: PART_BYTES_MIN, multipartThresholdBytes: PART_BYTES_MIN });
    const bytes = randomBytes(6 * MIB);
    expect(await store.put('six', bytes)).toEqual({ key: 'six', bytes: 6 * MIB, checksum: remoteChecksum(bytes) });
    expect(await partsOf('six')).toBe(2);
    expect((await store.get('six')).equals(bytes)).toBe(true);
    // A range across the boundary between the parts.
    const boundary = PART_BYTES_MIN;
    expect((await store.getRange('six', boundary - 100, 200)).equals(bytes.subarray(boundary - 100, boundary + 100))).toBe(true);
    // Exactly the threshold is one request.
    await store.put('five', bytes.subarray(0, PART_BYTES_MIN));
    expect(await partsOf('five')).toBe(1);
    expect(await openUploads()).toBe(0);
  });

  it('uploads a 65 MiB object in default-sized parts, and reads it back verified', async () => {
    await using store: S3RemoteStore = openStore(bucket);
    const bytes = randomBytes(65 * MIB);
    await store.put('large', bytes);
    expect(await partsOf('large')).toBe(Math.ceil(bytes.length / PART_BYTES_DEFAULT));
    expect(await store.head('large')).toEqual({ key: 'large', bytes: 65 * MIB, checksum: remoteChecksum(bytes) });
    expect((await store.get('large')).equals(bytes)).toBe(true);
    expect((await store.getRange('large', 64 * MIB, MIB)).equals(bytes.subarray(64 * MIB))).toBe(true);
    // Putting the same bytes again is a no-op; other bytes of the same size are refused.
    await store.put('large', bytes);
    bytes[0]! ^= 1;
    await expect(store.put('large', bytes)).rejects.toMatchObject({ code: 'KEEL_EXISTS' });
    expect(await openUploads()).toBe(0);
    const stats = store.stats();
    expect(stats.retries).toBe(0);
    expect(stats.bytesReceived).toBe(66 * MIB);
  });
});
