import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { remoteChecksum } from '@keel/core';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KeelError } from '@keel/core';

import { PART_BYTES_DEFAULT, PART_BYTES_MIN, S3RemoteStore } from '../../src/index.js';
import { STORE_KINDS, clusterEndpoint, createBucket, openStore, rawClient, type AnyS3Store } from './s3.js';

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

describe.each(STORE_KINDS)('a paced put on $thread', ({ Store }) => {
  const partOptions = { partBytes: PART_BYTES_MIN, multipartThresholdBytes: PART_BYTES_MIN, partConcurrency: 2 };

  it('asks beforeSend before each part, in part order, with its length, and before a put in one request', async () => {
    await using store = openStore<AnyS3Store>(bucket, partOptions, clusterEndpoint(), Store);
    const asked: number[] = [];
    const beforeSend = async (bytes: number) => {
      asked.push(bytes);
    };
    const bytes = randomBytes(2 * PART_BYTES_MIN + 1000);
    await store.put(`${Store.name}-paced`, bytes, { beforeSend });
    expect(asked).toEqual([PART_BYTES_MIN, PART_BYTES_MIN, 1000]);
    expect((await store.get(`${Store.name}-paced`)).equals(bytes)).toBe(true);
    await store.put(`${Store.name}-paced-small`, bytes.subarray(0, 300), { beforeSend });
    expect(asked.at(-1)).toBe(300);
    // A put that finds the same bytes already there sends nothing, and asks nothing.
    await store.put(`${Store.name}-paced`, bytes, { beforeSend });
    expect(asked).toHaveLength(4);
  });

  it('sends no part before its hook resolves, and fails the put with the hook\'s error, aborting the upload', async () => {
    await using store = openStore<AnyS3Store>(bucket, partOptions, clusterEndpoint(), Store);
    let asked = 0;
    const refusal = new KeelError('KEEL_REMOTE_REFUSED', 'no more bytes this second');
    const beforeSend = async () => {
      if (++asked === 2) throw refusal;
    };
    await expect(store.put(`${Store.name}-refused`, randomBytes(3 * PART_BYTES_MIN), { beforeSend })).rejects.toMatchObject({ code: 'KEEL_REMOTE_REFUSED', message: refusal.message });
    expect(store.stats().bytesSent).toBeLessThanOrEqual(PART_BYTES_MIN);
    await expect(store.head(`${Store.name}-refused`)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    expect(await openUploads()).toBe(0);
  });

  it('ends a wait in the hook the moment the caller aborts, with KEEL_ABORTED, the hook told through its signal', async () => {
    await using store = openStore<AnyS3Store>(bucket, partOptions, clusterEndpoint(), Store);
    const stop = new AbortController();
    let hookSignal: AbortSignal | undefined;
    let asked = 0;
    const beforeSend = (_bytes: number, signal: AbortSignal) => new Promise<void>((_, reject) => {
      asked++;
      hookSignal = signal;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      stop.abort(new Error('closing'));
    });
    await expect(store.put(`${Store.name}-abandoned`, randomBytes(2 * PART_BYTES_MIN), { beforeSend, signal: stop.signal })).rejects.toMatchObject({ code: 'KEEL_ABORTED' });
    expect(hookSignal?.aborted).toBe(true);
    // Once the put is abandoned no other part asks.
    expect(asked).toBe(1);
    expect(store.stats().bytesSent).toBe(0);
    await expect(store.head(`${Store.name}-abandoned`)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    expect(await openUploads()).toBe(0);
  });
});
