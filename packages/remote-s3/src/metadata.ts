import { KeelError, REMOTE_OBJECT_BYTES_MAX, hex32 } from '@keel/core';

/**
 * What keel stores beside each object, as S3 user metadata (`x-amz-meta-…`): the format
 * version, the length and the CRC-32C of the whole object. An object without them was not
 * put by keel and is refused as `KEEL_CORRUPT`.
 */
export const METADATA_FORMAT = 'keel-format';
export const METADATA_BYTES = 'keel-bytes';
export const METADATA_CRC32C = 'keel-crc32c';
export const METADATA_FORMAT_VERSION = '1';

export interface ObjectDescription {
  bytes: number;
  checksum: number;
}

export function encodeMetadata(description: ObjectDescription): Record<string, string> {
  return {
    [METADATA_FORMAT]: METADATA_FORMAT_VERSION,
    [METADATA_BYTES]: String(description.bytes),
    [METADATA_CRC32C]: hex32(description.checksum),
  };
}

/** Reads the description back, checking every field before it is trusted. */
export function decodeMetadata(path: string, metadata: Record<string, string> | undefined): ObjectDescription {
  const corrupt = (why: string) => new KeelError('KEEL_CORRUPT', `${path} was not put by keel or its metadata is damaged: ${why}`, { path });
  if (metadata === undefined) throw corrupt('it has no metadata');
  const format = metadata[METADATA_FORMAT];
  if (format !== METADATA_FORMAT_VERSION) throw corrupt(`${METADATA_FORMAT} is ${JSON.stringify(format)}, not ${METADATA_FORMAT_VERSION}`);
  const bytesText = metadata[METADATA_BYTES] ?? '';
  if (!/^(0|[1-9][0-9]{0,9})$/.test(bytesText) || Number(bytesText) > REMOTE_OBJECT_BYTES_MAX) {
    throw corrupt(`${METADATA_BYTES} is ${JSON.stringify(metadata[METADATA_BYTES])}`);
  }
  const checksumText = metadata[METADATA_CRC32C] ?? '';
  if (!/^[0-9a-f]{8}$/.test(checksumText)) throw corrupt(`${METADATA_CRC32C} is ${JSON.stringify(metadata[METADATA_CRC32C])}`);
  return { bytes: Number(bytesText), checksum: Number.parseInt(checksumText, 16) };
}
