// A TypeScript user of all four backends and of the S3 remote store; typechecked, never run.
import type { RecoveryReport, RemoteStore } from '@keel/core';
import { Journal } from '@keel/journal';
import { PayloadRef, PayloadStore } from '@keel/payload-store';
import { S3RemoteStore } from '@keel/remote-s3';
import { SegmentLog } from '@keel/segment-log';
import { WalKv } from '@keel/wal-kv';

export async function useAll(dir: string): Promise<RecoveryReport[]> {
  const journal = await Journal.open(`${dir}/app.wal`, { durability: { mode: 'explicit' } });
  const lsn: number = journal.append(new TextEncoder().encode('hello'));
  await journal.syncThrough(lsn);

  const log = await SegmentLog.open(`${dir}/log`, { durability: { mode: 'every-write' } });
  const offset: number = log.append({ value: new Uint8Array([1, 2, 3]), timestamp: Date.now() });
  const values: Uint8Array[] = log.read(offset, { maxRecords: 1 }).map((record) => record.value);

  const store = await PayloadStore.open(`${dir}/payloads`, { durability: { mode: 'explicit' } });
  const stored: Uint8Array = PayloadRef.encode(store.append(values[0] ?? new Uint8Array()));

  const kv = await WalKv.open(`${dir}/kv`, { durability: { mode: 'explicit' } });
  kv.put('ref', stored);
  await kv.sync();

  const reports = [journal.recovery, log.recovery, store.recovery, kv.recovery];
  await Promise.all([journal.close(), log.close(), store.close(), kv.close()]);
  return reports;
}

export async function offload(bytes: Uint8Array): Promise<number> {
  const store: RemoteStore = new S3RemoteStore({ bucket: 'tier', endpoint: 'http://127.0.0.1:7480', forcePathStyle: true });
  try {
    const object = await store.put('00000000000000000000.log', bytes);
    const back: Buffer = await store.getRange(object.key, 0, Math.min(object.bytes, 16));
    return object.checksum + back.length;
  } finally {
    await store.close();
  }
}
