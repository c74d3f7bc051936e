import { isKeelError, nativeIo, type Io, type RecoveryReport } from '@keel/core';
import type { BackendAdapter } from '../adapter.js';
import { KvModel, LogModel, type Model } from '../model.js';

/** Record sizes of the real-file workloads: small, so that every byte can be damaged. */
export const REAL_RECORD_BYTES = 6;
export const REAL_KV_KEYS = 3;

export function modelFor(adapter: BackendAdapter): Model {
  return adapter.kind === 'log' ? new LogModel() : new KvModel();
}

/** Writes record `index` of a workload through the adapter and into the model. */
export function writeRecord(adapter: BackendAdapter, store: unknown, model: Model, size = REAL_RECORD_BYTES): void {
  if (adapter.kind === 'log' && model instanceof LogModel) {
    const payload = model.payload(size);
    model.add([payload]);
    adapter.append(store, payload);
    return;
  }
  if (adapter.kind === 'kv' && model instanceof KvModel) {
    const key = `k${model.size % REAL_KV_KEYS}`;
    const value = model.value(size);
    model.add([{ type: 'put', key, value }]);
    adapter.put(store, key, value);
  }
}

export function openOnDisk(adapter: BackendAdapter, dir: string, io: Io = nativeIo): Promise<unknown> {
  return adapter.open(io, dir, { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
}

/** Matches a store's state against the model, where damage may have cost anything after the first damaged byte. */
export async function matchDamaged(adapter: BackendAdapter, store: unknown, model: Model): Promise<number> {
  if (adapter.kind === 'log') return (model as LogModel).match(await adapter.read(store), Number.POSITIVE_INFINITY);
  return (model as KvModel).match(await adapter.read(store), Number.POSITIVE_INFINITY);
}

/** A recovery that cut something off says so. */
export function reportsDamage(report: RecoveryReport): boolean {
  return report.tailState !== 'clean-end' || report.discardedBytes > 0 || report.actions.length > 0;
}

export function isCorruptWithOffset(error: unknown): boolean {
  return isKeelError(error, 'KEEL_CORRUPT') && typeof error.offset === 'number';
}
