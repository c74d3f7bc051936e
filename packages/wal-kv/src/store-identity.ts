import { randomBytes } from 'node:crypto';
import { FRAME_HEADER_BYTES, KeelError, checkFrameAt, defineFrameFormat, encodeFrame, joinPath, type Io } from '@keel/core';
import { STORE_ID_BYTES, viewOf } from './format.js';
import { startsAsOurs } from './ownership.js';

/**
 * `STORE`: one core frame (magic "WKVI") whose payload is version u16 (1), reserved u16,
 * store id (16 random bytes chosen when the store is created). Every log header and
 * snapshot carries the id, so recovery can tell a file copied from another store.
 */
export const IDENTITY_FILE_NAME = 'STORE';
export const IDENTITY_FORMAT = defineFrameFormat(0x574b_5649, 64);
export const IDENTITY_FORMAT_VERSION = 1;
const IDENTITY_PAYLOAD_BYTES = 4 + STORE_ID_BYTES;
const IDENTITY_FILE_BYTES = FRAME_HEADER_BYTES + IDENTITY_PAYLOAD_BYTES + 4;
/** Magic, length, version and reserved: known before the id is. */
const IDENTITY_SIGNATURE_BYTES = FRAME_HEADER_BYTES + 4;

export type IdentityCheck =
  | { readonly state: 'valid'; readonly storeId: Uint8Array }
  | { readonly state: 'absent' }
  /** Created, but the write was cut short by a crash: our signature (or a prefix of it, then zeros). */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string };

export function encodeIdentity(storeId: Uint8Array): Uint8Array {
  const payload = new Uint8Array(IDENTITY_PAYLOAD_BYTES);
  viewOf(payload).setUint16(0, IDENTITY_FORMAT_VERSION, true);
  payload.set(storeId, 4);
  return encodeFrame(payload, IDENTITY_FORMAT);
}

export function decodeIdentity(bytes: Uint8Array): IdentityCheck {
  const check = checkFrameAt(bytes, 0, IDENTITY_FORMAT);
  if (check.ok && check.frameBytes === bytes.length && check.payloadLength === IDENTITY_PAYLOAD_BYTES) {
    const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + IDENTITY_PAYLOAD_BYTES);
    const version = viewOf(payload).getUint16(0, true);
    if (version !== IDENTITY_FORMAT_VERSION) return { state: 'foreign', reason: `identity format version ${version}` };
    return { state: 'valid', storeId: payload.slice(4) };
  }
  const signature = encodeIdentity(new Uint8Array(STORE_ID_BYTES)).subarray(0, IDENTITY_SIGNATURE_BYTES);
  if (bytes.length <= IDENTITY_FILE_BYTES && startsAsOurs(bytes, signature)) return { state: 'torn' };
  return { state: 'foreign', reason: check.ok ? 'unexpected identity length' : check.state };
}

export function surveyIdentity(io: Io, dir: string): IdentityCheck {
  const path = joinPath(dir, IDENTITY_FILE_NAME);
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
  return read > IDENTITY_FILE_BYTES ? { state: 'foreign', reason: 'longer than an identity file' } : decodeIdentity(bytes.subarray(0, read));
}

/** Writes a fresh identity durably (file, then directory entry) before the first log exists. */
export async function writeIdentity(io: Io, dir: string, replaceTorn: boolean): Promise<Uint8Array> {
  const storeId = new Uint8Array(randomBytes(STORE_ID_BYTES));
  // Exclusive creation, unless the file there is our own torn one: nothing else is overwritten.
  const file = io.open(joinPath(dir, IDENTITY_FILE_NAME), replaceTorn ? { write: true, truncate: true } : { createNew: true });
  try {
    await file.write(encodeIdentity(storeId), 0);
    await file.datasync();
  } finally {
    file.closeSync();
  }
  await io.syncDir(dir);
  return storeId;
}

export function sameStoreId(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

export function refuseDirectory(dir: string, reason: string, path = dir): KeelError {
  return new KeelError('KEEL_CORRUPT', `${path}: ${reason}; nothing was changed`, { path, offset: 0 });
}
