import type { KvOperation, LogRecord } from './adapter.js';
import { sameBytes } from './file-image.js';
import { ConformanceViolation, violation } from './violation.js';

/** Record and value bytes: a unique id (u32 big-endian) then filler derived from it. */
export function makePayload(id: number, size: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(4, size));
  new DataView(bytes.buffer).setUint32(0, id, false);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (id * 31 + i * 7) & 0xff;
  return bytes;
}

export function payloadId(bytes: Uint8Array): number | null {
  if (bytes.length < 4) return null;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
}

/**
 * A whole record written elsewhere showed up in place of another (a misdirected write of
 * a complete frame). A violation unless the backend's format cannot tell (see
 * `BackendSupports.positionFreeFrames`), in which case the suite counts it.
 */
export class MisplacedRecord extends ConformanceViolation {}

interface ModelRecord {
  id: number;
  payload: Uint8Array;
  /** Which operation (write or batch) wrote it. */
  operation: number;
  /** Where the log first showed it; a record never moves (offsets are not reused). */
  position?: number;
}

/**
 * What was written to a log and what of it was acknowledged durable. A recovered log must
 * be a contiguous run of what was written, byte for byte, reaching at least the
 * acknowledged end; it may start later only where retention was asked to drop records.
 */
export class LogModel {
  readonly kind = 'log';
  records: ModelRecord[] = [];
  /** Records [0, acked) are acknowledged durable. */
  acked = 0;
  /** Records below this index may be gone: retention was asked to drop them. */
  floor = 0;
  #nextId = 1;
  #operations = 0;

  /** The smallest payload written (see ANCHOR_BYTES_MIN: write fates find records by their bytes). */
  payloadBytesMin = 0;

  payload(size: number): Uint8Array {
    return makePayload(this.#nextId++, Math.max(size, this.payloadBytesMin));
  }

  /** Records one write or batch; returns the count of records written so far. */
  add(payloads: readonly Uint8Array[]): number {
    const operation = this.#operations++;
    for (const payload of payloads) this.records.push({ id: payloadId(payload) as number, payload, operation });
    return this.records.length;
  }

  get size(): number {
    return this.records.length;
  }

  ack(count: number): void {
    if (count > this.acked) this.acked = Math.min(count, this.records.length);
  }

  /** The end a recovered log must reach, less `operations` whole operations of allowance. */
  requiredEnd(operations: number): number {
    let end = this.acked;
    for (let i = 0; i < operations && end > 0; i++) {
      const operation = (this.records[end - 1] as ModelRecord).operation;
      while (end > 0 && (this.records[end - 1] as ModelRecord).operation === operation) end--;
    }
    return end;
  }

  /**
   * Checks `found` against the model; returns how many records it shows survived. With
   * `gapWithin` (a lost or misplaced write's records), found may skip one contiguous run
   * of those records — at its head or inside it — which `lastGap` then names; records
   * after a gap are matched by bytes, their positions learned afresh (a log whose
   * positions count records shifts them).
   */
  match(found: readonly LogRecord[], allowanceOperations: number, gapWithin?: { readonly from: number; readonly to: number }): number {
    this.lastGap = null;
    const required = this.requiredEnd(allowanceOperations);
    if (found.length === 0) {
      if (required > this.floor) violation(`log is empty but records up to #${required} were acknowledged durable`);
      return Math.min(this.floor, this.records.length);
    }
    const first = found[0] as LogRecord;
    const start = this.#indexOf(first, 0);
    if (start > this.floor) {
      if (gapWithin !== undefined && this.floor >= gapWithin.from && start <= gapWithin.to) this.#skip(this.floor, start);
      else {
        // A head merely lost leaves the later records where they were; one seen elsewhere
        // before (or never) may be a whole frame written in another's place.
        const seen = (this.records[start] as ModelRecord).position;
        const lost = `log starts at record #${start}, but only records below #${this.floor} were released to retention (lost the head)`;
        if (seen === undefined || seen !== first.position) throw new MisplacedRecord(`${lost}; or record #${start}, at position ${first.position}, was written there from elsewhere`);
        violation(lost);
      }
    }
    let index = start;
    for (let i = 0; i < found.length; i++, index++) {
      const actual = found[i] as LogRecord;
      if (gapWithin !== undefined && this.lastGap === null && index >= gapWithin.from) {
        const at = this.#findFrom(actual, index);
        if (at > index && at <= gapWithin.to) {
          this.#skip(index, at);
          index = at;
        }
      }
      const expected = this.records[index];
      if (expected === undefined) violation(`record ${i} (position ${actual.position}) is beyond everything written: ${describeBytes(actual.payload)}`);
      if (!sameBytes(expected.payload, actual.payload)) {
        const elsewhere = this.records.some((record) => sameBytes(record.payload, actual.payload));
        if (elsewhere) throw new MisplacedRecord(`record #${index} (position ${actual.position}) holds record id ${payloadId(actual.payload)} written elsewhere`);
        violation(`record #${index} (position ${actual.position}) differs from what was written: expected ${describeBytes(expected.payload)}, got ${describeBytes(actual.payload)} (hole, reordering or corruption)`);
      }
      if (i > 0 && actual.position <= (found[i - 1] as LogRecord).position) violation(`record #${index} is at position ${actual.position}, not after the record before it`);
      if (expected.position !== undefined && expected.position !== actual.position) {
        violation(`record #${index} moved from position ${expected.position} to ${actual.position}`);
      }
      expected.position ??= actual.position;
    }
    const end = index;
    if (end < required) violation(`log ends at record #${end} but records up to #${this.acked} were acknowledged durable (lost ${this.acked - end})`);
    return end;
  }

  /** The gap `match` accepted in its last call: records [from, to) missing with later ones present. */
  lastGap: { readonly from: number; readonly to: number } | null = null;

  /** Records [from, to) are accepted as missing: later records may sit at other positions now. */
  #skip(from: number, to: number): void {
    this.lastGap = { from, to };
    for (const record of this.records.slice(from)) delete record.position;
  }

  /** The model index of `record` at or after `from`, by its bytes; -1 when it is not there. */
  #findFrom(record: LogRecord, from: number): number {
    return this.records.findIndex((candidate, index) => index >= from && sameBytes(candidate.payload, record.payload));
  }

  /** Takes out the records of a gap a recovery was allowed to leave: the log is what remains, in order. */
  dropGap(gap: { readonly from: number; readonly to: number }): void {
    const removed = gap.to - gap.from;
    this.records.splice(gap.from, removed);
    this.acked -= Math.max(0, Math.min(this.acked, gap.to) - gap.from);
    if (this.floor > gap.from) this.floor = Math.max(gap.from, this.floor - removed);
  }

  /** After recovery: what survived is all there is, and it is durable. */
  settle(kept: number): void {
    this.records = this.records.slice(0, kept);
    this.acked = kept;
    this.floor = Math.min(this.floor, kept);
  }

  /** A record's index in the model by the id in its bytes; a record never written is a violation. */
  #indexOf(record: LogRecord, from: number): number {
    const id = payloadId(record.payload);
    const index = id === null ? -1 : this.records.findIndex((candidate, i) => i >= from && candidate.id === id);
    if (index < 0) violation(`read returned bytes that were never written at position ${record.position}: ${describeBytes(record.payload)}`);
    return index;
  }
}

/**
 * What was written to a key-value store. A recovered store must equal the state after
 * some prefix of the operations that contains every acknowledged one: pending operations
 * may land or not, but in order, whole (a batch is atomic), and deletes stay deleted.
 */
export class KvModel {
  readonly kind = 'kv';
  operations: KvOperation[][] = [];
  acked = 0;
  #nextId = 1;

  /** The smallest value written (see ANCHOR_BYTES_MIN: write fates find values by their bytes). */
  payloadBytesMin = 0;

  value(size: number): Uint8Array {
    return makePayload(this.#nextId++, Math.max(size, this.payloadBytesMin));
  }

  add(operations: KvOperation[]): number {
    this.operations.push(operations);
    return this.operations.length;
  }

  get size(): number {
    return this.operations.length;
  }

  ack(count: number): void {
    if (count > this.acked) this.acked = Math.min(count, this.operations.length);
  }

  stateAt(prefix: number): Map<string, Uint8Array> {
    const state = new Map<string, Uint8Array>();
    for (const batch of this.operations.slice(0, prefix)) {
      for (const operation of batch) {
        if (operation.type === 'put') state.set(operation.key, operation.value);
        else state.delete(operation.key);
      }
    }
    return state;
  }

  /** Returns the longest prefix whose state equals `found`, from the acknowledged one (less the allowance) on. */
  match(found: ReadonlyMap<string, Uint8Array>, allowanceOperations: number): number {
    const lowest = this.lowestAllowed(allowanceOperations);
    for (let prefix = this.operations.length; prefix >= lowest; prefix--) {
      if (sameState(this.stateAt(prefix), found)) return prefix;
    }
    violation(
      `store state matches no prefix of the operations from the ${this.acked} acknowledged ones on (of ${this.operations.length}): ${describeState(found)}; ` +
        `acknowledged state ${describeState(this.stateAt(this.acked))}`,
    );
  }

  /**
   * The shortest prefix damage may leave: `allowanceOperations` operations back from the
   * acknowledged one, not counting operations that left the state as it was (a delete of
   * a key that is not there). Such an operation is acknowledged whenever the state after
   * it matched, whether or not the store kept it, so it cannot use up what damage may
   * cost: a bit flip that spoils one put must not count as two lost operations because a
   * no-op delete after it was taken as kept.
   */
  lowestAllowed(allowanceOperations: number): number {
    if (!Number.isFinite(allowanceOperations)) return 0;
    let prefix = this.acked;
    let left = allowanceOperations;
    let state = this.stateAt(prefix);
    while (prefix > 0) {
      const before = this.stateAt(prefix - 1);
      const changed = !sameState(before, state);
      if (changed && left === 0) break;
      if (changed) left--;
      prefix--;
      state = before;
    }
    return prefix;
  }

  settle(kept: number): void {
    this.operations = this.operations.slice(0, kept);
    this.acked = kept;
  }
}

export type Model = LogModel | KvModel;

function sameState(left: ReadonlyMap<string, Uint8Array>, right: ReadonlyMap<string, Uint8Array>): boolean {
  if (left.size !== right.size) return false;
  for (const [key, value] of left) {
    const other = right.get(key);
    if (other === undefined || !sameBytes(value, other)) return false;
  }
  return true;
}

function describeBytes(bytes: Uint8Array): string {
  const id = payloadId(bytes);
  return `${bytes.length} bytes${id === null ? '' : ` id ${id}`}`;
}

function describeState(state: ReadonlyMap<string, Uint8Array>): string {
  const entries = [...state].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => `${key}=${payloadId(value) ?? '?'}`);
  return `{${entries.join(', ')}}`;
}
