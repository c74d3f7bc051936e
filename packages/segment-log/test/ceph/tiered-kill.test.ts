// SIGKILL of a tiered writer at chosen steps of offload, against the real Ceph: while a
// segment's .log is being put, before its manifest, at the journal's write and fdatasync
// of a copy-finished or delete-started, while local retention unlinks a copied segment,
// and while total retention deletes remote objects. After each kill the log reopens over
// the same bucket, finishes the offload, and must hold every record from its start to at
// least the last acknowledged one, with the journal and the bucket agreeing object for object.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runChildUntilKilled } from '@keel/conformance';
import { S3RemoteStore } from '@keel/remote-s3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

import { SegmentLog } from '../../src/index.js';
import { OffloadJournal } from '../../src/tiered/offload-journal.js';
import { copyObjectKinds, remoteKey } from '../../src/tiered/remote-keys.js';
import { tempDir } from '../helpers.js';
import { timestampFor, valueFor } from '../support/record-for.js';
import { openCephStore, useBucket } from './ceph.js';

const CHILD = fileURLToPath(new URL('../support/tiered-kill-child.ts', import.meta.url));
/** The steps to kill at: a line the child prints just before it takes the step. */
const KILL_POINTS: readonly { name: string; matches: (line: string) => boolean }[] = [
  { name: 'during the put of a .log', matches: (line) => line.startsWith('remote put') && line.endsWith('.log') },
  { name: 'before the manifest', matches: (line) => line.startsWith('remote put') && line.endsWith('.manifest') },
  { name: 'at a journal write', matches: (line) => line === 'local write remote-log-metadata' },
  { name: 'at a journal fdatasync', matches: (line) => line === 'local datasync remote-log-metadata' },
  { name: 'during a local delete', matches: (line) => line.startsWith('local remove') && line.endsWith('.log') },
  { name: 'during a remote delete', matches: (line) => line.startsWith('remote delete') },
];
/** Past this many records (about 110 KB) the log is past its total retention, so remote deletes run too. */
const ACKNOWLEDGED_BEFORE_ARMING = 600;
const RETENTION_BYTES = 96 * 1024;
const SEGMENT_BYTES = 16 * 1024;
const LOCAL_RETENTION_BYTES = 32 * 1024;
/** Six child processes (each loads the AWS SDK) and six reopens: slow on a loaded two-core machine. */
const TEST_TIMEOUT_MS = 300_000;

const shared = useBucket();

/** A seeded choice of how many matching steps to let pass, so a failure can be replayed. */
function chooser(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return 1 + (state % 3);
  };
}

async function runAndKill(dir: string, prefix: string, point: (typeof KILL_POINTS)[number], skip: number): Promise<number> {
  let acknowledged = 0;
  let seen = 0;
  const child = await runChildUntilKilled({
    script: CHILD,
    args: [dir, shared.bucket(), prefix],
    onLine: (line) => {
      if (line.startsWith('ack ')) {
        const [, first, count] = line.split(' ').map(Number) as [number, number, number];
        acknowledged = Math.max(acknowledged, first + count);
        return false;
      }
      if (acknowledged < ACKNOWLEDGED_BEFORE_ARMING || !point.matches(line)) return false;
      seen++;
      return seen >= skip;
    },
  });
  // The SDK warns about Node 20 on stderr; anything else there is a failure of the child.
  expect(child.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?to show where the warning was created\)\n?/, '')).toBe('');
  expect(child.signal).toBe('SIGKILL');
  return acknowledged;
}

async function objectKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await shared.client().send(new ListObjectsV2Command({ Bucket: shared.bucket(), Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((entry) => entry.Key!.slice(prefix.length)));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return keys.sort();
}

async function checkAfterKill(dir: string, prefix: string, store: S3RemoteStore, acknowledged: number, what: string): Promise<void> {
  const log = await SegmentLog.open(dir, {
    segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 1024, durability: { mode: 'explicit' }, retention: { bytes: RETENTION_BYTES },
    tiered: { remote: store, prefix, localRetention: { bytes: LOCAL_RETENTION_BYTES }, backoffBaseMs: 10, backoffMaxMs: 100 },
  });
  try {
    await log.offloaded();
    await log.enforceRetention();
    await log.offloaded();
    expect(log.nextOffset, what).toBeGreaterThanOrEqual(acknowledged);
    let expected = log.startOffset;
    for await (const record of log.stream()) {
      expect(record.offset, what).toBe(expected);
      expect(record.value, what).toEqual(valueFor(expected));
      expect(record.timestamp, what).toBe(timestampFor(expected));
      expected++;
    }
    expect(expected, what).toBe(log.nextOffset);
    // Only retention moves the start: once it has, what is kept, remote and local, is about its bound.
    const stats = log.stats();
    if (log.startOffset > 0) expect(stats.bytes + stats.tiered!.remoteBytes, what).toBeGreaterThan(RETENTION_BYTES - 2 * SEGMENT_BYTES);
  } finally {
    await log.close();
  }
  await using journal = await OffloadJournal.open(join(dir, 'remote-log-metadata'), { readOnly: true });
  expect(journal.unfinished(), what).toEqual([]);
  const recorded = journal.copies().flatMap((copy) => copyObjectKinds(copy).map((kind) => remoteKey(copy.baseOffset, copy.copyId, kind)));
  expect(await objectKeys(prefix), what).toEqual(recorded.sort());
}

it('a writer SIGKILLed at every step of offload loses nothing it acknowledged and strands no object', async () => {
  const seed = Number.parseInt(process.env.KEEL_TEST_SEED ?? String(Date.now() % 1_000_000), 10);
  const next = chooser(seed);
  const dir = tempDir();
  const prefix = `kill-${randomBytes(4).toString('hex')}/`;
  await using store = openCephStore(shared.bucket());
  for (const point of KILL_POINTS) {
    const skip = next();
    const what = `killed ${point.name} (seed ${seed}, step ${skip}; replay with KEEL_TEST_SEED=${seed})`;
    const acknowledged = await runAndKill(dir, prefix, point, skip);
    await checkAfterKill(dir, prefix, store, acknowledged, what);
  }
}, TEST_TIMEOUT_MS);
