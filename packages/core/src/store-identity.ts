import { randomBytes } from 'node:crypto';
import { KeelError } from './errors.js';
import { FRAME_HEADER_BYTES, checkFrameAt, defineFrameFormat, encodeFrame, type FrameFormat } from './frame.js';
import type { Io } from './io.js';
import { joinPath } from './paths.js';
import { startsAsOurs } from './torn-write.js';

/** Random bytes that name one store: every file recovery may act on carries them. */
export const STORE_ID_BYTES = 16;
export const STORE_IDENTITY_FORMAT_VERSION = 1;
/** version u16, reserved u16, then the id. */
const IDENTITY_PAYLOAD_BYTES = 4 + STORE_ID_BYTES;
const IDENTITY_FILE_BYTES = FRAME_HEADER_BYTES + IDENTITY_PAYLOAD_BYTES + 4;
/** Magic, length, version and reserved: what every identity file starts with, known before the id. */
const IDENTITY_SIGNATURE_BYTES = FRAME_HEADER_BYTES + 4;

export type StoreIdentityCheck =
  | { readonly state: 'valid'; readonly storeId: Uint8Array }
  | { readonly state: 'absent' }
  /** Created, but the write was cut short by a crash: our signature (or pieces of it, holes as zeros). */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string };

/**
 * A store's identity file: one core frame (the backend's own magic) whose payload is
 * version u16 (1), reserved u16 (0) and a random store id chosen when the directory
 * became a store. A file that recovery may delete, adopt or commit carries the id, so a
 * file copied from another store is recognised as foreign.
 */
export class StoreIdentity {
  readonly fileName: string;
  readonly format: FrameFormat;

  constructor(fileName: string, magic: number) {
    this.fileName = fileName;
    this.format = defineFrameFormat(magic, IDENTITY_PAYLOAD_BYTES);
  }

  encode(storeId: Uint8Array): Uint8Array {
    const payload = new Uint8Array(IDENTITY_PAYLOAD_BYTES);
    new DataView(payload.buffer).setUint16(0, STORE_IDENTITY_FORMAT_VERSION, true);
    payload.set(storeId, 4);
    return encodeFrame(payload, this.format);
  }

  decode(bytes: Uint8Array): StoreIdentityCheck {
    const check = checkFrameAt(bytes, 0, this.format);
    if (check.ok && check.frameBytes === bytes.length && check.payloadLength === IDENTITY_PAYLOAD_BYTES) {
      const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + IDENTITY_PAYLOAD_BYTES);
      const version = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint16(0, true);
      if (version !== STORE_IDENTITY_FORMAT_VERSION) return { state: 'foreign', reason: `identity format version ${version}` };
      return { state: 'valid', storeId: payload.slice(4) };
    }
    const signature = this.encode(new Uint8Array(STORE_ID_BYTES)).subarray(0, IDENTITY_SIGNATURE_BYTES);
    if (bytes.length <= IDENTITY_FILE_BYTES && startsAsOurs(bytes, signature)) return { state: 'torn' };
    return { state: 'foreign', reason: check.ok ? 'unexpected identity length' : check.state };
  }

  /** Reads the identity file without changing anything. */
  survey(io: Io, dir: string): StoreIdentityCheck {
    const path = joinPath(dir, this.fileName);
    const stat = io.stat(path);
    if (stat === null) return { state: 'absent' };
    if (!stat.isFile) return { state: 'foreign', reason: 'not a regular file' };
    // One byte more than an identity file holds: a longer file is told apart without reading it all.
    const bytes = new Uint8Array(IDENTITY_FILE_BYTES + 1);
    const file = io.open(path);
    let read: number;
    try {
      read = file.readSync(bytes, 0);
    } finally {
      file.closeSync();
    }
    return read > IDENTITY_FILE_BYTES ? { state: 'foreign', reason: 'longer than an identity file' } : this.decode(bytes.subarray(0, read));
  }

  /**
   * Gives the directory a fresh identity, durably (file, then directory entry), before
   * anything else of the store is written. The file is created exclusively unless the one
   * there is our own torn creation (`replaceTorn`): nothing else is ever overwritten.
   */
  async write(io: Io, dir: string, replaceTorn: boolean): Promise<Uint8Array> {
    const storeId = new Uint8Array(randomBytes(STORE_ID_BYTES));
    const file = io.open(joinPath(dir, this.fileName), replaceTorn ? { write: true, truncate: true } : { createNew: true });
    try {
      await file.write(this.encode(storeId), 0);
      await file.datasync();
    } finally {
      file.closeSync();
    }
    await io.syncDir(dir);
    return storeId;
  }

  /** KEEL_CORRUPT for an identity file that is not this backend's. */
  foreignError(dir: string, reason: string): KeelError {
    const path = joinPath(dir, this.fileName);
    return new KeelError('KEEL_CORRUPT', `${path} is not a keel store identity (${reason}); nothing was changed`, { path, offset: 0 });
  }
}

export function sameStoreId(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}
