// The object store goes away under a tiered log (its radosgw killed) and comes back:
// appends, syncs and local reads carry on, the uploader retries with backoff, the local
// disk grows past local retention rather than lose a record, reads below the local start
// fail with KEEL_REMOTE_UNAVAILABLE; once the gateway is back the offload catches up.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { startGateway, type Gateway } from '../../../../scripts/ceph/cluster.mjs';
import { SegmentLog } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { valueFor } from '../support/record-for.js';
import { appendSynced } from '../support/append-synced.js';
import { openCephStore, useBucket } from './ceph.js';

const SEGMENT_BYTES = 16 * 1024;
const LOCAL_RETENTION_BYTES = 32 * 1024;

const shared = useBucket();
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});

afterAll(async () => {
  await gateway.kill();
});

async function waitFor(what: string, deadlineMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function localBytes(log: SegmentLog): number {
  return log.segments().reduce((sum, segment) => sum + segment.bytes, 0);
}

it('a store that goes away stops nothing local, loses nothing, and is caught up with once it is back', async () => {
  await using store = openCephStore(shared.bucket(), {}, gateway.endpoint);
  const errors: string[] = [];
  const log = await SegmentLog.open(tempDir(), {
    durability: { mode: 'explicit' },
    segmentBytes: SEGMENT_BYTES,
    indexIntervalBytes: 1024,
    tiered: {
      remote: store, prefix: `outage-${randomBytes(4).toString('hex')}/`, localRetention: { bytes: LOCAL_RETENTION_BYTES },
      backoffBaseMs: 20, backoffMaxMs: 200, onError: (error) => errors.push((error as { code: string }).code),
    },
  });
  await appendSynced(log, 15, 40);
  await log.offloaded();
  await log.enforceRetention();
  expect(log.localStartOffset).toBeGreaterThan(0);
  expect(await log.readAsync(0, { maxRecords: 1 })).toHaveLength(1);

  await gateway.kill();
  const before = log.nextOffset;
  await appendSynced(log, 30, 40);
  expect(log.nextOffset).toBe(before + 1200);
  await waitFor('two failed upload tries', 30_000, () => log.stats().tiered!.failedTries >= 2);
  expect(new Set(errors)).toEqual(new Set(['KEEL_REMOTE_UNAVAILABLE']));
  // Nothing copied, nothing deleted: the disk holds more than local retention allows.
  await log.enforceRetention();
  expect(localBytes(log)).toBeGreaterThan(LOCAL_RETENTION_BYTES + 4 * SEGMENT_BYTES);
  expect(log.read(log.localStartOffset, { maxRecords: 1 })[0]!.value).toEqual(valueFor(log.localStartOffset));
  // What the cache holds (segment 0, read above) is still served; the rest cannot be.
  expect((await log.readAsync(0, { maxRecords: 1 }))[0]!.value).toEqual(valueFor(0));
  await expect(log.readAsync(log.localStartOffset - 1)).rejects.toMatchObject({ code: 'KEEL_REMOTE_UNAVAILABLE' });

  await gateway.start();
  await log.offloaded();
  await log.enforceRetention();
  expect(localBytes(log)).toBeLessThanOrEqual(LOCAL_RETENTION_BYTES + 2 * SEGMENT_BYTES);
  let expected = 0;
  for await (const record of log.stream()) {
    expect(record.value).toEqual(valueFor(expected));
    expected++;
  }
  expect(expected).toBe(log.nextOffset);
  await log.close();
});
