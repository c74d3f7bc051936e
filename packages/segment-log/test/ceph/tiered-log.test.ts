// A tiered log against the real Ceph: segments larger than the multipart threshold go up
// in parts, every record is read back from offset 0 through the log's own API and from a
// second process that has only the bucket and prefix, and an object whose bytes were
// changed in the store is refused, never returned.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TYPESCRIPT_HOOKS_PATH } from '@keel/conformance';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

import { RemoteSegmentLog, SegmentLog } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { timestampFor, valueFor } from '../support/record-for.js';
import { appendSynced } from '../support/append-synced.js';
import { openCephStore, useBucket } from './ceph.js';

const MIB = 1024 * 1024;
const READER_CHILD = fileURLToPath(new URL('../support/remote-reader-child.ts', import.meta.url));

const shared = useBucket();

function readInChild(prefix: string): Promise<{ startOffset: number; nextOffset: number; records: number; wrong: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TYPESCRIPT_HOOKS_PATH, READER_CHILD, shared.bucket(), prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`reader exited with ${code}: ${stderr}`))));
  });
}

it('offloads segments in parts, reads every record back here and from another process with only the bucket', async () => {
  const prefix = `e2e-${randomBytes(4).toString('hex')}/`;
  await using store = openCephStore(shared.bucket(), { multipartThresholdBytes: 5 * MIB, partBytes: 5 * MIB, requestTimeoutMs: 10_000 });
  const log = await SegmentLog.open(tempDir(), {
    durability: { mode: 'explicit' },
    segmentBytes: 6 * MIB,
    tiered: { remote: store, prefix, localRetention: { bytes: 0 } },
  });
  // About 7 MiB of records (about 164 bytes each in their batch frames): a sealed segment
  // of 6 MiB, put in two parts.
  await appendSynced(log, 64, 700);
  await log.offloaded();
  await log.enforceRetention();
  expect(log.stats().tiered).toMatchObject({ remoteSegments: 1, failedTries: 0 });
  expect(log.segments()).toHaveLength(1);
  expect(log.startOffset).toBe(0);

  let expected = 0;
  for await (const record of log.stream()) {
    expect(record.offset).toBe(expected);
    expect(Buffer.from(record.value!).equals(valueFor(expected))).toBe(true);
    expected++;
  }
  expect(expected).toBe(log.nextOffset);
  expect(await log.offsetForTimestampAsync(timestampFor(1234))).toBe(1234);
  const remoteEnd = log.localStartOffset;
  await log.close();

  expect(await readInChild(prefix)).toEqual({ startOffset: 0, nextOffset: remoteEnd, records: remoteEnd, wrong: [] });
});

it('refuses remote bytes changed in the store: a damaged .log frame and a damaged index after it', async () => {
  const prefix = `damaged-${randomBytes(4).toString('hex')}/`;
  await using store = openCephStore(shared.bucket());
  const log = await SegmentLog.open(tempDir(), {
    durability: { mode: 'explicit' }, segmentBytes: 64 * 1024, tiered: { remote: store, prefix, localRetention: { bytes: 0 } },
  });
  await appendSynced(log, 10, 100);
  await log.offloaded();
  await log.close();

  // Replace an object with damaged bytes under the same keel metadata, as a faulty store
  // would serve them (a negative `at` counts from the end); damaging a byte twice undoes it.
  const damage = async (suffix: string, at: number): Promise<void> => {
    const listed = (await RemoteSegmentLog.open({ remote: store, prefix })).stats();
    expect(listed.segments).toBeGreaterThan(1);
    const key = (await store.list(`${prefix}00000000000000000000.`)).entries.find((entry) => entry.key.endsWith(suffix))!.key;
    const object = await shared.client().send(new GetObjectCommand({ Bucket: shared.bucket(), Key: key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    bytes[at < 0 ? bytes.length + at : at]! ^= 0x10;
    await shared.client().send(new PutObjectCommand({ Bucket: shared.bucket(), Key: key, Body: bytes, Metadata: object.Metadata }));
  };
  await damage('.log', 500);
  const reader = await RemoteSegmentLog.open({ remote: store, prefix, cacheBytes: 0 });
  await expect(reader.read(0, { maxBytes: 64 * 1024 })).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
  // The indexes follow the log's bytes in the same object: the last byte is the time index's.
  await damage('.log', 500);
  await damage('.log', -1);
  const fresh = await RemoteSegmentLog.open({ remote: store, prefix, cacheBytes: 0 });
  await expect(fresh.read(0)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
  // Segments that were not touched still read.
  expect((await fresh.read(fresh.nextOffset - 1))[0]!.value).toEqual(valueFor(fresh.nextOffset - 1));
});
