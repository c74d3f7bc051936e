import { KeelError, StoreIdentity } from '@keel/core';

/** `STORE`: core's store identity file with magic "WKVI" (format in the README). */
export const IDENTITY = new StoreIdentity('STORE', 0x574b_5649);
export const IDENTITY_FILE_NAME = IDENTITY.fileName;

export function refuseDirectory(dir: string, reason: string, path = dir): KeelError {
  return new KeelError('KEEL_CORRUPT', `${path}: ${reason}; nothing was changed`, { path, offset: 0 });
}
