import { PutObjectCommand } from '@aws-sdk/client-s3';
import { REMOTE_LIST_LIMIT_MAX, listRemoteObjects, remoteChecksum } from '@keel/core';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { S3RemoteStoreOptions } from '../../src/index.js';
import { STORE_KINDS, clusterEndpoint, createBucket, openStore as openOn, rawClient, type AnyS3Store, type Endpoint } from './s3.js';

describe.each(STORE_KINDS)('on $thread', ({ Store }) => {
  const openStore = (bucket: string, options?: Partial<S3RemoteStoreOptions>, endpoint?: Endpoint): AnyS3Store =>
    openOn<AnyS3Store>(bucket, options, endpoint, Store);
  const client = rawClient();
  let bucket: string;
  let store: AnyS3Store;

  beforeAll(async () => {
    bucket = await createBucket(client);
    store = openStore(bucket, { prefix: 'objects/' });
  });

  afterAll(async () => {
    await store.close();
    client.destroy();
  });

  describe('put, get, head and delete', () => {
    it('puts an object and reads it back whole, with its length and CRC-32C', async () => {
      const bytes = randomBytes(100_000);
      const put = await store.put('segments/0.log', bytes);
      expect(put).toEqual({ key: 'segments/0.log', bytes: 100_000, checksum: remoteChecksum(bytes) });
      expect(await store.head('segments/0.log')).toEqual(put);
      expect((await store.get('segments/0.log')).equals(bytes)).toBe(true);
    });

    it('keeps an empty object', async () => {
      await store.put('empty', new Uint8Array(0));
      expect(await store.head('empty')).toEqual({ key: 'empty', bytes: 0, checksum: 0 });
      expect((await store.get('empty')).length).toBe(0);
    });

    it('reads byte ranges, and refuses a range past the end', async () => {
      const bytes = randomBytes(10_000);
      await store.put('ranges', bytes);
      expect((await store.getRange('ranges', 0, 1)).equals(bytes.subarray(0, 1))).toBe(true);
      expect((await store.getRange('ranges', 1234, 5000)).equals(bytes.subarray(1234, 6234))).toBe(true);
      expect((await store.getRange('ranges', 9999, 1)).equals(bytes.subarray(9999))).toBe(true);
      expect((await store.getRange('ranges', 0, 10_000)).equals(bytes)).toBe(true);
      await expect(store.getRange('ranges', 9999, 2)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
      await expect(store.getRange('ranges', 10_000, 1)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
      await expect(store.getRange('ranges', 0, 0)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
    });

    it('never replaces an object: the same bytes again succeed, other bytes are KEEL_EXISTS', async () => {
      const bytes = randomBytes(2048);
      await store.put('immutable', bytes);
      const requests = store.stats().requests;
      expect(await store.put('immutable', Buffer.from(bytes))).toMatchObject({ bytes: 2048 });
      expect(store.stats().requests - requests).toBe(1); // only the HEAD that found it
      const other = Buffer.from(bytes);
      other[100]! ^= 1;
      await expect(store.put('immutable', other)).rejects.toMatchObject({ code: 'KEEL_EXISTS', path: `s3://${bucket}/objects/immutable` });
      await expect(store.put('immutable', bytes.subarray(1))).rejects.toMatchObject({ code: 'KEEL_EXISTS' });
      expect((await store.get('immutable')).equals(bytes)).toBe(true);
    });

    it('skips the existence check only for a key the caller vouches is unused', async () => {
      const bytes = randomBytes(4096);
      let requests = store.stats().requests;
      await store.put('vouched', bytes, { unusedKey: true });
      expect(store.stats().requests - requests).toBe(1); // the PUT alone
      expect((await store.get('vouched')).equals(bytes)).toBe(true);
      requests = store.stats().requests;
      await store.put('checked', bytes);
      expect(store.stats().requests - requests).toBe(2); // HEAD, then PUT
    });

    it('reports a missing key as KEEL_NOT_FOUND from get, getRange and head', async () => {
      await expect(store.get('missing')).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND', path: `s3://${bucket}/objects/missing` });
      await expect(store.getRange('missing', 0, 10)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
      await expect(store.head('missing')).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    });

    it('deletes, and deleting what is not there succeeds', async () => {
      await store.put('doomed', randomBytes(10));
      await store.delete('doomed');
      await expect(store.head('doomed')).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
      await store.delete('doomed');
      await store.delete('never-was');
      // A deleted key can be put again, with other contents.
      await store.put('doomed', randomBytes(20));
      expect((await store.head('doomed')).bytes).toBe(20);
    });

    it('keeps each prefix to itself', async () => {
      const other = openStore(bucket, { prefix: 'elsewhere/' });
      try {
        await other.put('segments/0.log', randomBytes(5));
        expect((await other.head('segments/0.log')).bytes).toBe(5);
        expect((await store.head('segments/0.log')).bytes).toBe(100_000);
        expect((await other.list('')).entries.map((entry) => entry.key)).toEqual(['segments/0.log']);
      } finally {
        await other.close();
      }
    });
  });

  describe('list', () => {
    it('pages through keys in order, the last page with no next', async () => {
      const keys = Array.from({ length: 25 }, (_, index) => `listing/${String(index).padStart(3, '0')}`);
      await Promise.all(keys.map((key, index) => store.put(key, randomBytes(index + 1))));
      const first = await store.list('listing/', { limit: 10 });
      expect(first.entries.map((entry) => entry.key)).toEqual(keys.slice(0, 10));
      expect(first.entries[3]).toEqual({ key: 'listing/003', bytes: 4 });
      expect(first.next).toBe('listing/009');
      const second = await store.list('listing/', { limit: 10, after: first.next! });
      expect(second.entries.map((entry) => entry.key)).toEqual(keys.slice(10, 20));
      const third = await store.list('listing/', { limit: 10, after: second.next! });
      expect(third.entries.map((entry) => entry.key)).toEqual(keys.slice(20));
      expect(third.next).toBeUndefined();

      const all: string[] = [];
      for await (const entry of listRemoteObjects(store, 'listing/', { limit: 7 })) all.push(entry.key);
      expect(all).toEqual(keys);
      expect((await store.list('listing/01')).entries).toHaveLength(10);
      expect(await store.list('nothing-here/')).toEqual({ entries: [], next: undefined });
    });

    it('pages on past keys that other clients wrote and keel would refuse to put', async () => {
      for (const key of ['odd/x//a', 'odd/x//b']) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `objects/${key}`, Body: randomBytes(3) }));
      }
      const first = await store.list('odd/', { limit: 1 });
      expect(first).toEqual({ entries: [{ key: 'odd/x//a', bytes: 3 }], next: 'odd/x//a' });
      expect((await store.list('odd/', { limit: 1, after: first.next! })).entries).toEqual([{ key: 'odd/x//b', bytes: 3 }]);
    });

    it('refuses limits outside 1 to REMOTE_LIST_LIMIT_MAX', async () => {
      await expect(store.list('', { limit: 0 })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
      await expect(store.list('', { limit: REMOTE_LIST_LIMIT_MAX + 1 })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
    });
  });

  describe('refusals and misuse', () => {
    it('a bucket that does not exist and wrong keys are KEEL_REMOTE_REFUSED, without retries', async () => {
      const nowhere = openStore('keel-no-such-bucket');
      await expect(nowhere.put('a', randomBytes(1))).rejects.toMatchObject({ code: 'KEEL_REMOTE_REFUSED' });
      await expect(nowhere.list('')).rejects.toMatchObject({ code: 'KEEL_REMOTE_REFUSED' });
      expect(nowhere.stats().retries).toBe(0);
      await nowhere.close();

      const stranger = openStore(bucket, {}, { ...clusterEndpoint(), secretAccessKey: 'not-the-secret' });
      await expect(stranger.get('objects/segments/0.log')).rejects.toMatchObject({ code: 'KEEL_REMOTE_REFUSED' });
      expect(stranger.stats().retries).toBe(0);
      await stranger.close();
    });

    it('refuses bad keys before sending anything', async () => {
      const requests = store.stats().requests;
      for (const key of ['', '/a', 'a//b', '../a', 'a\u0000']) {
        await expect(store.put(key, randomBytes(1))).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
      }
      await expect(store.put('x', 'text' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
      expect(store.stats().requests).toBe(requests);
    });

    it('an aborted signal stops a call with KEEL_ABORTED, its reason as the cause', async () => {
      const reason = new Error('shutting down');
      await expect(store.get('segments/0.log', { signal: AbortSignal.abort(reason) })).rejects.toMatchObject({ code: 'KEEL_ABORTED', cause: reason });
    });

    it('refuses use after close, and close is idempotent', async () => {
      const closing = openStore(bucket);
      await closing.close();
      await closing.close();
      await expect(closing.get('a')).rejects.toMatchObject({ code: 'KEEL_CLOSED' });
      await expect(closing.put('a', randomBytes(1))).rejects.toMatchObject({ code: 'KEEL_CLOSED' });
    });

    it('reads objects other clients put only if they carry keel\'s metadata', async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'objects/foreign', Body: randomBytes(10) }));
      await expect(store.get('foreign')).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
      await expect(store.head('foreign')).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
      await expect(store.put('foreign', randomBytes(10))).rejects.toMatchObject({ code: 'KEEL_EXISTS' });
    });
  });
});
