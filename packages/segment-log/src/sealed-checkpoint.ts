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

/** The checkpoint file, open for the flushes that advance it. */
export class SealedCheckpoint {
  readonly #file: IoFile;
  readonly #storeId: Uint8Array;
  #offset: number;
  #slot: number;

  constructor(file: IoFile, storeId: Uint8Array, found: { offset: number; slot: number }) {
    this.#file = file;
    this.#storeId = storeId;
    this.#offset = found.offset;
    this.#slot = found.slot;
  }

  /** The offset the last write named (durable once its datasync returned). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Writes `offset` over the slot that does not hold the current one, so that a crash
   * tearing this write leaves that one whole. Only once every segment ending at or below
   * `offset` is durable, whole and under a durable directory entry; the caller datasyncs.
   */
  write(offset: number): void {
    if (offset <= this.#offset) throw new Error('the sealed-offset checkpoint only moves forward');
    const slot = (this.#slot + 1) % SEALED_CHECKPOINT_SLOTS;
    this.#file.writeSync(encodeOffsetRecord(SEALED_CHECKPOINT, offset, this.#storeId), slot * RECORD_BYTES);
    this.#slot = slot;
    this.#offset = offset;
  }

  datasync(): Promise<void> {
    return this.#file.datasync();
  }

  datasyncSync(): void {
    this.#file.datasyncSync();
  }

  closeSync(): void {
    this.#file.closeSync();
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
