import { KeelError } from '@keel/core';
import type { KvAdapter, KvOperation } from '../adapter.js';
import { ReferenceLog } from './reference-log.js';
import { REFERENCE_SEGMENT_BYTES } from './adapter.js';

/**
 * A key-value store on the reference log: each write or batch is one record (so a batch
 * is atomic), and the state is the replay of every record. It validates the suite's
 * key-value model; `splitBatches` is its mutant (a batch written as one record per
 * operation, so a crash can leave half of it).
 */
export interface ReferenceKvFlaws {
  splitBatches?: boolean;
}

const PUT = 1;
const DELETE = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeOperations(operations: readonly KvOperation[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const operation of operations) {
    const key = encoder.encode(operation.key);
    const value = operation.type === 'put' ? operation.value : new Uint8Array(0);
    const head = new Uint8Array(9);
    const view = new DataView(head.buffer);
    view.setUint8(0, operation.type === 'put' ? PUT : DELETE);
    view.setUint32(1, key.length, true);
    view.setUint32(5, value.length, true);
    parts.push(head, key, value);
  }
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Applies one record's operations; a record whose contents are impossible (a valid checksum over them notwithstanding) is corrupt. */
export function applyRecord(state: Map<string, Uint8Array>, record: Uint8Array): void {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  for (let offset = 0; offset < record.length; ) {
    if (offset + 9 > record.length) throw corruptRecord(offset, 'an operation header runs past the record');
    const type = view.getUint8(offset);
    const keyLength = view.getUint32(offset + 1, true);
    const valueLength = view.getUint32(offset + 5, true);
    if (type !== PUT && type !== DELETE) throw corruptRecord(offset, `operation type ${type}`);
    if (type === DELETE && valueLength !== 0) throw corruptRecord(offset, 'a delete with a value');
    if (offset + 9 + keyLength + valueLength > record.length) throw corruptRecord(offset, 'an operation runs past the record');
    const key = decoder.decode(record.subarray(offset + 9, offset + 9 + keyLength));
    const value = record.slice(offset + 9 + keyLength, offset + 9 + keyLength + valueLength);
    if (type === PUT) state.set(key, value);
    else state.delete(key);
    offset += 9 + keyLength + valueLength;
  }
}

function corruptRecord(offset: number, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `reference key-value record is impossible at byte ${offset}: ${what}`, { offset });
}

export function referenceKvAdapter(flaws: ReferenceKvFlaws = {}, name = 'reference-kv'): KvAdapter<ReferenceLog> {
  const write = (log: ReferenceLog, operations: KvOperation[]): void => {
    if (flaws.splitBatches) for (const operation of operations) log.append(encodeOperations([operation]));
    else log.append(encodeOperations(operations));
  };
  return {
    name,
    kind: 'kv',
    supports: { batch: true, salvage: true, derivedFiles: true, positionFreeFrames: true, durabilityNone: true },
    open: (io, dir, options) => ReferenceLog.open(dir, { io, durability: options.durability, recovery: options.recovery, segmentBytes: REFERENCE_SEGMENT_BYTES }),
    close: (log) => log.close(),
    sync: (log) => log.sync(),
    recovery: (log) => log.recovery,
    put: (log, key, value) => write(log, [{ type: 'put', key, value }]),
    delete: (log, key) => write(log, [{ type: 'del', key }]),
    batch: (log, operations) => write(log, operations),
    read(log) {
      const state = new Map<string, Uint8Array>();
      for (const record of log.records()) applyRecord(state, record.payload);
      return state;
    },
    isDerivedFile: (path) => path.endsWith('.index'),
    carriesNoStoreIdentity: () => true,
    protocols: { roll: (log) => log.roll() },
  };
}
