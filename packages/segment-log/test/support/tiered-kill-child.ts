// The tiered writer the offload kill test SIGKILLs. It appends batches whose contents
// follow from their offsets, syncs, and prints "ack <first> <count>"; before every step
// of offload it prints what it is about to do ("remote put <key>", "remote delete <key>",
// "local <operation> <file>"), so the parent can kill it at a chosen step. Small segments
// and local retention make it roll, copy and delete all the time. Runs until killed.
import { InterceptedIo, nativeIo, type IoMutation, type RemoteStore } from '@keel/core';
import { S3RemoteStore } from '@keel/remote-s3';

import { SegmentLog } from '../../src/index.js';
import { timestampFor, valueFor } from './record-for.js';

const [dir, bucket, prefix] = process.argv.slice(2);
if (dir === undefined || bucket === undefined || prefix === undefined) throw new Error('usage: tiered-kill-child <log dir> <bucket> <prefix>');

/** Prints each disk mutation of offload's files (the journal, and removals of segment files) before it happens. */
class ReportingIo extends InterceptedIo {
  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    report(operation, path);
    return run();
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    report(operation, path);
    return run();
  }
}

function report(operation: IoMutation, path: string): void {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (operation === 'remove' || name === 'remote-log-metadata') process.stdout.write(`local ${operation} ${name}\n`);
}

function reporting(store: RemoteStore): RemoteStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if ((property === 'put' || property === 'delete') && typeof value === 'function') {
        return (key: string, ...rest: unknown[]) => {
          process.stdout.write(`remote ${property} ${key}\n`);
          return (value as (...args: unknown[]) => unknown).call(target, key, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const { KEEL_S3_ENDPOINT, KEEL_S3_REGION, KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY } = process.env;
const store = new S3RemoteStore({
  bucket, endpoint: KEEL_S3_ENDPOINT, region: KEEL_S3_REGION, forcePathStyle: true,
  credentials: { accessKeyId: KEEL_S3_ACCESS_KEY_ID ?? '', secretAccessKey: KEEL_S3_SECRET_ACCESS_KEY ?? '' },
});
const log = await SegmentLog.open(dir, {
  io: new ReportingIo(nativeIo),
  segmentBytes: 16 * 1024,
  indexIntervalBytes: 1024,
  durability: { mode: 'explicit' },
  retention: { bytes: 96 * 1024 },
  tiered: { remote: reporting(store), prefix, localRetention: { bytes: 32 * 1024 }, backoffBaseMs: 10, backoffMaxMs: 100 },
});
for (let batch = 1; ; batch = (batch % 17) + 1) {
  const next = log.nextOffset;
  const records = Array.from({ length: batch }, (_, index) => ({ value: valueFor(next + index), timestamp: timestampFor(next + index) }));
  const first = log.appendBatch(records);
  await log.sync();
  // A pipe write is synchronous on Linux: the line is out before the next append.
  process.stdout.write(`ack ${first} ${batch}\n`);
  // A writer with idle moments (1 ms a batch, about 1 MB/s here), so the uploader keeps up as it would in use.
  await new Promise((resolve) => setTimeout(resolve, 1));
}
