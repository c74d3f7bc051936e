// The uploader against a real object store (a one-node Ceph booted for the run): sealed
// segments are copied whole and recorded, an outage is waited out, and copies a crash
// left half done are deleted before anything new is sent.
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { remoteChecksum, type RemoteStore } from '@keel/core';
import { S3RemoteStore } from '@keel/remote-s3';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGateway, type Gateway } from '../../../../scripts/ceph/cluster.mjs';
import { segmentPaths } from '../../src/format.js';
import { OffloadJournal } from '../../src/tiered/offload-journal.js';
import { remoteKey } from '../../src/tiered/remote-keys.js';
import { SegmentUploader, type SealedSegment } from '../../src/tiered/segment-uploader.js';
import { sealedSegments } from '../support/sealed-segments.js';

const { KEEL_S3_ENDPOINT, KEEL_S3_REGION, KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY } = process.env;
const credentials = { accessKeyId: KEEL_S3_ACCESS_KEY_ID ?? '', secretAccessKey: KEEL_S3_SECRET_ACCESS_KEY ?? '' };
const client = new S3Client({ endpoint: KEEL_S3_ENDPOINT, region: KEEL_S3_REGION, forcePathStyle: true, credentials });
const bucket = `keel-tiered-${randomBytes(6).toString('hex')}`;
let gateway: Gateway;

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  gateway = await startGateway();
});

afterAll(async () => {
  await gateway.kill();
  client.destroy();
});

/** A store under its own prefix, through the main gateway or (for outages) this file's own. */
function openStore(prefix: string, endpoint = KEEL_S3_ENDPOINT): S3RemoteStore {
  return new S3RemoteStore({
    bucket, prefix, endpoint, region: KEEL_S3_REGION, forcePathStyle: true, credentials,
    connectTimeoutMs: 500, requestTimeoutMs: 1_000, retryTimeoutMs: 1_000,
  });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((entry) => entry.Key!.slice(prefix.length));
}

async function waitFor(what: string, deadlineMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function expectCopied(store: RemoteStore, journal: OffloadJournal, segment: SealedSegment): Promise<void> {
  const copy = journal.finishedCopy(segment.baseOffset);
  expect(copy).toMatchObject({ state: 'copied', nextOffset: segment.nextOffset });
  // One .log object: the log's bytes, then the index's, then the time index's.
  expect(copy!.indexesInLog).toBe(true);
  const locals = [readFileSync(segment.paths.log), readFileSync(segment.paths.offsetIndex), readFileSync(segment.paths.timeIndex)];
  (['log', 'index', 'timeindex'] as const).forEach((kind, index) => {
    expect(copy!.files![kind]).toEqual({ bytes: locals[index]!.length, checksum: remoteChecksum(locals[index]!) });
  });
  expect((await store.get(remoteKey(segment.baseOffset, copy!.copyId, 'log'))).equals(Buffer.concat(locals))).toBe(true);
}

describe('segment uploader', () => {
  it('copies sealed segments whole, in order, and records each copy before it counts', async () => {
    const { dir, segments } = await sealedSegments(3);
    await using store = openStore('copies/');
    const journalPath = join(dir, 'offload.journal');
    const journal = await OffloadJournal.open(journalPath);
    const uploader = new SegmentUploader({ store, journal });
    for (const segment of segments) uploader.enqueue(segment);
    await uploader.idle();
    expect(uploader.stats()).toMatchObject({ copied: 3, failedTries: 0, queued: 0 });
    for (const segment of segments) await expectCopied(store, journal, segment);
    expect(await keysUnder('copies/')).toHaveLength(3 * 2);

    // A segment with a finished copy is not copied again, also after a reopen.
    uploader.enqueue(segments[0]!);
    await uploader.idle();
    expect(uploader.stats().copied).toBe(3);
    await uploader.close();
    await journal.close();
    await using reopened = await OffloadJournal.open(journalPath);
    for (const segment of segments) await expectCopied(store, reopened, segment);
  });

  it('waits out an outage with backoff and finishes the copy once the store is back', async () => {
    const { dir, segments } = await sealedSegments(1);
    await using store = openStore('outage/', gateway.endpoint);
    await using journal = await OffloadJournal.open(join(dir, 'offload.journal'));
    const errors: string[] = [];
    const uploader = new SegmentUploader({
      store, journal, backoffBaseMs: 50, backoffMaxMs: 200, onError: (error) => errors.push((error as { code: string }).code),
    });
    await gateway.kill();
    uploader.enqueue(segments[0]!);
    await waitFor('two failed tries', 30_000, () => uploader.stats().failedTries >= 2);
    expect(new Set(errors)).toEqual(new Set(['KEEL_REMOTE_UNAVAILABLE']));
    expect(journal.unfinished()).toHaveLength(1); // started, not finished
    await gateway.start();
    await uploader.idle();
    await expectCopied(store, journal, segments[0]!);
    expect(journal.unfinished()).toEqual([]);
    await uploader.close();
  });

  it('deletes the objects of a copy a crash left half done before copying again', async () => {
    const { dir, segments } = await sealedSegments(1);
    const segment = segments[0]!;
    await using store = openStore('crash/');
    const journalPath = join(dir, 'offload.journal');
    // What a crash in the middle of a copy leaves: copy-started recorded, one object put.
    const crashed = await OffloadJournal.open(journalPath);
    const copyId = 'c0ffee00c0ffee00';
    await crashed.record({ type: 'copy-started', baseOffset: segment.baseOffset, copyId });
    await store.put(remoteKey(segment.baseOffset, copyId, 'log'), readFileSync(segment.paths.log));
    await crashed.close();

    await using journal = await OffloadJournal.open(journalPath);
    expect(journal.unfinished()).toEqual([{ baseOffset: segment.baseOffset, copyId, state: 'copying' }]);
    const uploader = new SegmentUploader({ store, journal });
    uploader.enqueue(segment);
    await uploader.idle();
    expect(uploader.stats()).toMatchObject({ deleted: 1, copied: 1 });
    expect(journal.copies().map((copy) => copy.copyId)).not.toContain(copyId);
    expect((await keysUnder('crash/')).filter((key) => key.includes(copyId))).toEqual([]);
    await expectCopied(store, journal, segment);
    await uploader.close();
  });

  it('deletes a finished copy on request (remote retention)', async () => {
    const { dir, segments } = await sealedSegments(2);
    await using store = openStore('retention/');
    await using journal = await OffloadJournal.open(join(dir, 'offload.journal'));
    const uploader = new SegmentUploader({ store, journal });
    for (const segment of segments) uploader.enqueue(segment);
    await uploader.idle();
    await uploader.deleteCopy(segments[0]!.baseOffset);
    await uploader.idle();
    expect(journal.finishedCopy(segments[0]!.baseOffset)).toBeUndefined();
    expect(journal.copies().map((copy) => copy.baseOffset)).toEqual([segments[1]!.baseOffset]);
    expect(await keysUnder('retention/')).toHaveLength(2);
    await uploader.close();
  });

  it('drops a segment whose local files are gone, recording nothing for it', async () => {
    const { dir, segments } = await sealedSegments(1);
    await using store = openStore('dropped/');
    await using journal = await OffloadJournal.open(join(dir, 'offload.journal'));
    const errors: unknown[] = [];
    const uploader = new SegmentUploader({ store, journal, onError: (error) => errors.push(error) });
    uploader.enqueue({ ...segments[0]!, paths: segmentPaths(join(dir, 'elsewhere'), segments[0]!.baseOffset) });
    await uploader.idle();
    expect(uploader.stats()).toMatchObject({ dropped: 1, copied: 0, failedTries: 0 });
    expect(errors).toHaveLength(1);
    expect(journal.copies()).toEqual([]);
    expect(await keysUnder('dropped/')).toEqual([]);
    await uploader.close();
  });

  it('close during an outage returns promptly and leaves the copy for the next uploader to clean up', async () => {
    const { dir, segments } = await sealedSegments(1);
    await using store = openStore('closing/', gateway.endpoint);
    const journalPath = join(dir, 'offload.journal');
    const journal = await OffloadJournal.open(journalPath);
    const uploader = new SegmentUploader({ store, journal, backoffBaseMs: 60_000 });
    await gateway.kill();
    uploader.enqueue(segments[0]!);
    await waitFor('a failed try', 30_000, () => uploader.stats().failedTries >= 1);
    const started = performance.now();
    await uploader.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(() => uploader.enqueue(segments[0]!)).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
    await journal.close();
    await gateway.start();

    await using reopened = await OffloadJournal.open(journalPath);
    expect(reopened.unfinished()).toHaveLength(1);
    const next = new SegmentUploader({ store, journal: reopened });
    next.enqueue(segments[0]!);
    await next.idle();
    expect(next.stats()).toMatchObject({ deleted: 1, copied: 1 });
    await expectCopied(store, reopened, segments[0]!);
    await next.close();
  });
});
