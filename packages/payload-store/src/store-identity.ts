import { StoreIdentity } from '@keel/core';

/**
 * `payload-store.id`: core's store identity file with magic "KPSI" (format in the
 * README). Every file that recovery may delete, adopt or commit on the strength of its
 * contents (a compaction's mapping) carries the id, so a file copied from another store
 * is foreign.
 */
export const IDENTITY = new StoreIdentity('payload-store.id', 0x4b50_5349);
export const IDENTITY_FILE_NAME = IDENTITY.fileName;
