import { KeelError, joinPath, nativeIo, type Io } from '@keel/core';

export type BackendName = 'journal' | 'segment-log' | 'payload-store' | 'wal-kv';
export const BACKENDS: readonly BackendName[] = ['journal', 'segment-log', 'payload-store', 'wal-kv'];

/**
 * The first four bytes (big-endian) of a file each backend writes and nothing else does:
 * a store is recognised by what its files hold, never by their names.
 */
const MAGICS: ReadonlyMap<number, BackendName> = new Map([
  [0x4653_5901, 'journal'], // "FSY\x01": a journal frame
  [0x4b53_4c48, 'segment-log'], // "KSLH": a segment's header frame
  [0x4b50_5347, 'payload-store'], // "KPSG": a payload segment's header
  [0x4b50_5349, 'payload-store'], // "KPSI": payload-store.id
  [0x574b_5648, 'wal-kv'], // "WKVH": a log's header frame
  [0x574b_5649, 'wal-kv'], // "WKVI": the STORE identity
]);

export interface Detected {
  backend: BackendName;
  path: string;
  /** For a directory, the files whose magic named the backend. */
  evidence: string[];
}

/** Which backend's files are at `path`; KEEL_NOT_FOUND when none or several are. */
export function detectStore(path: string, io: Io = nativeIo): Detected {
  const stat = io.stat(path);
  if (stat === null) throw new KeelError('KEEL_NOT_FOUND', `${path} does not exist`, { path });
  if (stat.isFile) {
    const backend = magicOf(io, path);
    if (backend !== 'journal') throw notOurs(path, 'a file that does not start with a journal frame');
    return { backend, path, evidence: [path] };
  }
  const found = new Map<BackendName, string[]>();
  for (const name of io.list(path)) {
    const file = joinPath(path, name);
    if (io.stat(file)?.isFile !== true) continue;
    const backend = magicOf(io, file);
    if (backend !== null && backend !== 'journal') found.set(backend, [...(found.get(backend) ?? []), name]);
  }
  if (found.size === 0) throw notOurs(path, 'no file in it starts with the magic of a keel store');
  if (found.size > 1) throw notOurs(path, `it holds files of several backends (${[...found.keys()].join(', ')})`);
  const [[backend, evidence]] = [...found] as [[BackendName, string[]]];
  return { backend, path, evidence };
}

function magicOf(io: Io, path: string): BackendName | null {
  let file;
  try {
    file = io.open(path);
  } catch {
    return null;
  }
  try {
    const head = new Uint8Array(4);
    if (file.readSync(head, 0) < 4) return null;
    return MAGICS.get(new DataView(head.buffer).getUint32(0, false)) ?? null;
  } finally {
    file.closeSync();
  }
}

function notOurs(path: string, why: string): KeelError {
  return new KeelError('KEEL_NOT_FOUND', `${path} is not a keel store: ${why}`, { path });
}
