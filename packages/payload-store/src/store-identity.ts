import { randomBytes } from 'node:crypto';
import { KeelError, crc32c, joinPath, type Io } from '@keel/core';
import { isTornWrite } from './format.js';
import { writeDurably } from './writer.js';

/**
 * The store's identity file: a random id chosen when the directory became a store. Every
 * file that recovery may delete, adopt or commit on the strength of its contents (a
 * compaction's mapping) carries this id, so a file copied from another store is foreign.
 *
 *   magic    u32 BE  "KPSI"
 *   version  u16 LE  1
 *   reserved u16 LE  0
 *   store id 16 bytes
 *   crc      u32 LE  CRC-32C of bytes 0..23
 */
export const IDENTITY_FILE_NAME = 'payload-store.id';
export const IDENTITY_MAGIC = 0x4b50_5349;
export const IDENTITY_FORMAT_VERSION = 1;
export const STORE_ID_BYTES = 16;
export const IDENTITY_FILE_BYTES = 28;
const IDENTITY_CHECKED_BYTES = 24;
/** magic, version and reserved: the bytes every identity file starts with. */
const IDENTITY_PREFIX_BYTES = 8;

export type IdentityCheck =
  | { readonly state: 'valid'; readonly storeId: Uint8Array }
  | { readonly state: 'absent' }
  /** Our prefix (each byte ours or a hole) and a checksum that fails: a creation a crash cut short. */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string };

function identityPrefix(): Uint8Array {
  const prefix = new Uint8Array(IDENTITY_PREFIX_BYTES);
  const view = new DataView(prefix.buffer);
  view.setUint32(0, IDENTITY_MAGIC, false);
  view.setUint16(4, IDENTITY_FORMAT_VERSION, true);
  return prefix;
}

export function encodeIdentity(storeId: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(IDENTITY_FILE_BYTES);
  bytes.set(identityPrefix(), 0);
  bytes.set(storeId, IDENTITY_PREFIX_BYTES);
  new DataView(bytes.buffer).setUint32(IDENTITY_CHECKED_BYTES, crc32c(bytes.subarray(0, IDENTITY_CHECKED_BYTES)), true);
  return bytes;
}

export function decodeIdentity(bytes: Uint8Array): IdentityCheck {
  const prefix = identityPrefix();
  if (bytes.length === IDENTITY_FILE_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const intact = crc32c(bytes.subarray(0, IDENTITY_CHECKED_BYTES)) === view.getUint32(IDENTITY_CHECKED_BYTES, true);
    if (intact && view.getUint32(0, false) === IDENTITY_MAGIC) {
      const version = view.getUint16(4, true);
      if (version !== IDENTITY_FORMAT_VERSION) return { state: 'foreign', reason: `unsupported identity format version ${version}` };
      return { state: 'valid', storeId: bytes.slice(IDENTITY_PREFIX_BYTES, IDENTITY_CHECKED_BYTES) };
    }
  }
  // The id that follows is random: only the known prefix can tell our torn file from another.
  if (bytes.length <= IDENTITY_FILE_BYTES && isTornWrite(bytes, prefix)) return { state: 'torn' };
  return { state: 'foreign', reason: 'bad identity magic or checksum' };
}

/** Reads the identity file without changing anything. */
export function surveyIdentity(io: Io, dir: string): IdentityCheck {
  const path = joinPath(dir, IDENTITY_FILE_NAME);
  const stat = io.stat(path);
  if (stat === null) return { state: 'absent' };
  if (!stat.isFile) return { state: 'foreign', reason: 'not a regular file' };
  if (stat.size > IDENTITY_FILE_BYTES) return { state: 'foreign', reason: `${stat.size} bytes, an identity file has ${IDENTITY_FILE_BYTES}` };
  const file = io.open(path);
  try {
    const bytes = new Uint8Array(stat.size);
    return decodeIdentity(bytes.subarray(0, file.readSync(bytes, 0)));
  } finally {
    file.closeSync();
  }
}

/** Gives the directory a fresh identity, durably (file and directory entry) before anything else is written. */
export async function writeIdentity(io: Io, dir: string): Promise<Uint8Array> {
  const storeId = new Uint8Array(randomBytes(STORE_ID_BYTES));
  await writeDurably(io, joinPath(dir, IDENTITY_FILE_NAME), encodeIdentity(storeId));
  await io.syncDir(dir);
  return storeId;
}

export function foreignIdentityError(dir: string, reason: string): KeelError {
  const path = joinPath(dir, IDENTITY_FILE_NAME);
  return new KeelError('KEEL_CORRUPT', `${path} is not a keel payload-store identity (${reason}); nothing was changed`, { path, offset: 0 });
}

