import { StoreIdentity } from '@keel/core';

/**
 * `segment-log.id`: core's store identity file with magic "KSLI" (format in the README).
 * Every file recovery acts on names the id (each segment's header, the log-start
 * checkpoint), so a segment or checkpoint copied from another log is foreign.
 */
export const IDENTITY = new StoreIdentity('segment-log.id', 0x4b53_4c49);
export const IDENTITY_FILE_NAME = IDENTITY.fileName;
