import type { FaultFs } from '@keel/conformance';

/** The bytes a read of `path` sees on the FaultFs (undefined: no such file). */
export function bytesOf(fs: FaultFs, path: string): Uint8Array | undefined {
  return fs.files().get(path);
}

/** Makes `path` hold exactly `bytes` (created when missing), as a person or another tool would. */
export function put(fs: FaultFs, path: string, bytes: Uint8Array): void {
  const file = fs.open(path, { create: true, truncate: true });
  try {
    if (bytes.length > 0) file.writeSync(bytes, 0);
  } finally {
    file.closeSync();
  }
}
