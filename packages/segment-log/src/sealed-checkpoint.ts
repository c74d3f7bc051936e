import { checkFrameAt, joinPath, type Io, type IoFile } from '@keel/core';
import { HEADER_PAYLOAD_BYTES, SEALED_CHECKPOINT_FILE_NAME, SEALED_CHECKPOINT_FORMAT, SEALED_CHECKPOINT_SLOTS, SEALED_CHECKPOINT_VERSION } from './format.js';
import { RECORD_BYTES, corrupt, encodeOffsetRecord, offsetRecordPayload } from './offset-record.js';

/**
 * The sealed-offset checkpoint (format in format.ts and the README): the proof, durable
 * before a flush acknowledges records in a segment a roll started, that the segments
 * before it were whole and durable. A sealed segment's index frames prove the same, but
 * they are written after the acknowledgement (off its path); until they are durable, a
 * sealed log whose end does not check could be a tail a crash tore before anything after
 * it was acknowledged, or media damage under acknowledged records. This tells the two
 * apart: damage at or below the offset it names is refused, never cut.
 */
const SEALED_CHECKPOINT = { what: 'sealed-offset checkpoint', format: SEALED_CHECKPOINT_FORMAT, version: SEALED_CHECKPOINT_VERSION };
const FILE_BYTES = SEALED_CHECKPOINT_SLOTS * RECORD_BYTES;

export interface SealedCheckpointFound {
  /** Whether the file exists. */
  present: boolean;
  /** The largest offset a whole slot names, or null when none is whole. */
  offset: number | null;
  /** The slot holding it (the next write goes to another). */
  slot: number;
}

/**
 * Open's read-only look at the checkpoint. A slot that fails its checksum is one a crash
 * tore (or damage, which costs only this proof) and is passed over; a whole slot of
 * another version or store, or a file of more bytes than two slots, is refused.
 */
export function readSealedCheckpoint(io: Io, dir: string, storeId: Uint8Array): SealedCheckpointFound {
  const path = joinPath(dir, SEALED_CHECKPOINT_FILE_NAME);
  const stat = io.stat(path);
  if (stat === null) return { present: false, offset: null, slot: 0 };
  if (!stat.isFile) throw corrupt(SEALED_CHECKPOINT, path, 'is not a regular file');
  if (stat.size > FILE_BYTES) throw corrupt(SEALED_CHECKPOINT, path, `holds ${stat.size} bytes, more than its ${SEALED_CHECKPOINT_SLOTS} slots of ${RECORD_BYTES}`);
  const bytes = new Uint8Array(stat.size);
  const file = io.open(path);
  try {
    file.readSync(bytes, 0);
  } finally {
    file.closeSync();
  }
  const found: SealedCheckpointFound = { present: true, offset: null, slot: 0 };
  for (let slot = 0; slot < SEALED_CHECKPOINT_SLOTS; slot++) {
    const at = slot * RECORD_BYTES;
    const check = checkFrameAt(bytes.subarray(0, Math.min(bytes.length, at + RECORD_BYTES)), at, SEALED_CHECKPOINT_FORMAT);
    if (!check.ok || check.frameBytes !== RECORD_BYTES) continue;
    const offset = offsetRecordPayload(SEALED_CHECKPOINT, path, bytes.subarray(at + 8, at + 8 + HEADER_PAYLOAD_BYTES), storeId);
    if (found.offset === null || offset > found.offset) Object.assign(found, { offset, slot });
  }
  return found;
}

/** What the checkpoint knows of one slot: the offset last written to it, and whether that write is durable. */
interface SlotState {
  offset: number;
  /** Writes to this slot so far. */
  writes: number;
  /** Of those, how many a datasync that has returned covered (equal: what it holds is durable). */
  durableWrites: number;
}

/**
 * The checkpoint file, open for the flushes that advance it. A `syncSync()` may write it
 * while an asynchronous flush's datasync of it is still running, so a write never goes
 * over the one slot whose content is known durable: it goes to a slot not yet durable
 * (whose content a crash could tear anyway), or else to the durable slot with the older
 * offset. A crash at any point then leaves a whole slot naming at least every offset a
 * returned datasync made durable.
 */
export class SealedCheckpoint {
  readonly #file: IoFile;
  readonly #storeId: Uint8Array;
  #offset: number;
  readonly #slots: SlotState[];

  constructor(file: IoFile, storeId: Uint8Array, found: { offset: number; slot: number }) {
    this.#file = file;
    this.#storeId = storeId;
    this.#offset = found.offset;
    this.#slots = Array.from({ length: SEALED_CHECKPOINT_SLOTS }, (_, slot) => ({
      offset: slot === found.slot ? found.offset : -1,
      writes: 0,
      durableWrites: 0,
    }));
  }

  /** The offset the last write named (durable once a datasync started after it returned). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Writes `offset` to a slot a crash may tear without losing the durable proof (see the
   * class). Only once every segment ending at or below `offset` is durable, whole and
   * under a durable directory entry; the caller datasyncs.
   */
  write(offset: number): void {
    if (offset <= this.#offset) throw new Error('the sealed-offset checkpoint only moves forward');
    const slot = this.#slotToWrite();
    this.#file.writeSync(encodeOffsetRecord(SEALED_CHECKPOINT, offset, this.#storeId), slot * RECORD_BYTES);
    const state = this.#slots[slot] as SlotState;
    state.offset = offset;
    state.writes++;
    this.#offset = offset;
  }

  async datasync(): Promise<void> {
    const covered = this.#slots.map((state) => state.writes);
    await this.#file.datasync();
    this.#covered(covered);
  }

  datasyncSync(): void {
    const covered = this.#slots.map((state) => state.writes);
    this.#file.datasyncSync();
    this.#covered(covered);
  }

  closeSync(): void {
    this.#file.closeSync();
  }

  /** A slot not known durable if there is one (at most one is), else the durable one naming the older offset. */
  #slotToWrite(): number {
    let oldest = 0;
    for (let slot = 0; slot < this.#slots.length; slot++) {
      const state = this.#slots[slot] as SlotState;
      if (state.writes !== state.durableWrites) return slot;
      if (state.offset < (this.#slots[oldest] as SlotState).offset) oldest = slot;
    }
    return oldest;
  }

  /** A datasync returned: every write made before it started is durable. */
  #covered(writes: readonly number[]): void {
    for (let slot = 0; slot < this.#slots.length; slot++) {
      const state = this.#slots[slot] as SlotState;
      state.durableWrites = Math.max(state.durableWrites, writes[slot] as number);
    }
  }
}

/**
 * Open's half, at the end of recovery, once every segment it keeps before the active one
 * is durable: the checkpoint names the active segment's base offset. Written (every slot,
 * then datasynced) when it names another offset or none: a larger one could outlive a
 * recovery that cut the active segment below it and vouch for records written after.
 * The file exists: `createSealedCheckpoint` made it before recovery's directory sync.
 */
export async function settleSealedCheckpoint(io: Io, dir: string, storeId: Uint8Array, found: SealedCheckpointFound, activeBase: number): Promise<SealedCheckpoint> {
  const file = io.open(joinPath(dir, SEALED_CHECKPOINT_FILE_NAME), { write: true });
  try {
    if (found.offset !== activeBase) {
      const slot = encodeOffsetRecord(SEALED_CHECKPOINT, activeBase, storeId);
      file.writevSync(Array.from({ length: SEALED_CHECKPOINT_SLOTS }, () => slot), 0);
      await file.datasync();
    }
  } catch (error) {
    file.closeSync();
    throw error;
  }
  return new SealedCheckpoint(file, storeId, { offset: activeBase, slot: found.offset === activeBase ? found.slot : 0 });
}

/**
 * Creates the file empty (no slot whole: no proof) when open found none, before the
 * directory sync recovery ends with: a flush trusts its writes to it only once its
 * directory entry is durable.
 */
export function createSealedCheckpoint(io: Io, dir: string, found: SealedCheckpointFound): void {
  if (!found.present) io.open(joinPath(dir, SEALED_CHECKPOINT_FILE_NAME), { create: true }).closeSync();
}
