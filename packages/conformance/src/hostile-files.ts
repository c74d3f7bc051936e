import { crc32c, isKeelError, type Io } from '@keel/core';
import fc from 'fast-check';
import type { BackendAdapter, ChecksummedRegion } from './adapter.js';
import { FaultFs } from './fault-fs.js';
import { joinPath } from './fs-state.js';
import { makePayload } from './model.js';
import { protocolsOf } from './scenario.js';
import { STORE_DIR } from './scenario-state.js';
import { describeError } from './scenario-rules.js';
import { ConformanceViolation, violation } from './violation.js';

/** Generated hostile files per backend in `pnpm test` (besides one of each class for every file). */
export const HOSTILE_RUNS_DEFAULT = 150;
/** Records (or key-value operations) each store of the family is written with. */
const STORE_RECORDS = 10;
/** Keys long enough to be found in a file, so that they are never mistaken for structure. */
const KEY_BYTES = 12;
/** Names keel gives its temporaries and leftovers: planted beside a real file, they must not confuse open. */
const TEMPORARY_SUFFIXES = ['.tmp', '.saving', '.torn-0', '.torn-24.1', '.compacting'] as const;
/** Values written into a field of a checksummed frame: none of them is what a store wrote there. */
const IMPOSSIBLE_FIELD_VALUES = ['all-ones', 'zero', 'high-bit', 'plus-one'] as const;

export const HOSTILE_CLASSES = ['resealed', 'foreign', 'temporary', 'directory'] as const;
export type HostileClass = (typeof HOSTILE_CLASSES)[number];

/** One hostile change to a store's directory, chosen from numbers so that fast-check can shrink it. */
export interface HostileCase {
  readonly kind: HostileClass;
  /** Which file of the store (index into its sorted file names). */
  readonly file: number;
  /** Class-specific choices (which frame, field, suffix, contents). */
  readonly choice: number;
  readonly detail: number;
  readonly variant: number;
}

/** What the store holds once closed: every write acknowledged. */
export type Expected = { kind: 'log'; payloads: Uint8Array[] } | { kind: 'kv'; entries: Map<string, Uint8Array> };

export interface WrittenStore {
  expected: Expected;
  /** Bytes the caller wrote (payloads, values, keys): changing them with a valid checksum is a legitimate other record, not damage. */
  userBytes: Uint8Array[];
}

interface BuiltStore extends WrittenStore {
  fs: FaultFs;
}

export interface HostileSummary {
  cases: number;
  refused: number;
  opened: number;
  /** Foreign files a format without a store identity cannot tell from its own (adapter.carriesNoStoreIdentity). */
  undetectable: number;
  skipped: number;
}

const encoder = new TextEncoder();

function keyOf(salt: number, index: number): string {
  return `key-${String(salt).padStart(3, '0')}-${String(index % 4).padStart(3, '0')}`.padEnd(KEY_BYTES, '-');
}

async function buildStore(adapter: BackendAdapter, salt: number): Promise<BuiltStore> {
  const fs = new FaultFs();
  return { fs, ...(await writeStore(adapter, fs, STORE_DIR, salt)) };
}

/**
 * A store written with every protocol the adapter has, then closed: all acknowledged.
 * `salt` makes a second store of the same shape with other contents (foreign files).
 */
export async function writeStore(adapter: BackendAdapter, io: Io, dir: string, salt: number): Promise<WrittenStore> {
  const store = await adapter.open(io, dir, { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
  const payloads: Uint8Array[] = [];
  const entries = new Map<string, Uint8Array>();
  const userBytes: Uint8Array[] = [];
  const protocols = protocolsOf(adapter);
  for (let index = 0; index < STORE_RECORDS; index++) {
    const payload = makePayload(salt * 1000 + index + 1, 16 + ((index * 7 + salt) % 24));
    userBytes.push(payload);
    if (adapter.kind === 'log') {
      await adapter.append(store, payload);
      payloads.push(payload);
    } else {
      const key = keyOf(salt, index);
      userBytes.push(encoder.encode(key));
      if (index % 5 === 4) {
        await adapter.delete(store, key);
        entries.delete(key);
      } else {
        await adapter.put(store, key, payload);
        entries.set(key, payload);
      }
    }
    if (index % 3 === 2) await adapter.sync(store);
    const protocol = protocols[index % Math.max(1, protocols.length)];
    if (index % 4 === 3 && protocol !== undefined) await adapter.protocols?.[protocol]?.(store);
  }
  await adapter.sync(store);
  await adapter.close(store);
  return { expected: adapter.kind === 'log' ? { kind: 'log', payloads } : { kind: 'kv', entries }, userBytes };
}

/** Every path under the store with what it is: a file's bytes, or a directory. */
function treeImage(fs: FaultFs, dir = STORE_DIR): Map<string, string> {
  const image = new Map<string, string>();
  const visit = (path: string): void => {
    const stat = fs.stat(path);
    if (stat === null) return;
    if (stat.isDirectory) {
      image.set(`${path}/`, 'directory');
      for (const name of fs.list(path)) visit(joinPath(path, name));
      return;
    }
    image.set(path, Buffer.from(fs.files().get(path) ?? new Uint8Array(0)).toString('base64'));
  };
  visit(dir);
  return image;
}

function sameImage(left: Map<string, string>, right: Map<string, string>): boolean {
  return left.size === right.size && [...left].every(([path, what]) => right.get(path) === what);
}


/**
 * Every core frame in `bytes` (magic, length, payload, CRC-32C of the three), found by
 * its checksum alone: the checksummed region is the frame's payload (changing the magic
 * or length would only break the frame, not make it impossible).
 */
function coreFrames(bytes: Uint8Array): ChecksummedRegion[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: ChecksummedRegion[] = [];
  for (let offset = 0; offset + 12 <= bytes.length; ) {
    const length = view.getUint32(offset + 4, true);
    const crcAt = offset + 8 + length;
    if (crcAt + 4 <= bytes.length && crc32c(bytes.subarray(offset, crcAt)) === view.getUint32(crcAt, true)) {
      frames.push({ start: offset, end: crcAt, crcAt, fieldsFrom: offset + 8 });
      offset = crcAt + 4;
    } else {
      offset++;
    }
  }
  return frames;
}

/** Bytes of `bytes` that belong to something the caller wrote. */
function userMask(bytes: Uint8Array, userBytes: readonly Uint8Array[]): Uint8Array {
  const mask = new Uint8Array(bytes.length);
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const needle of userBytes) {
    for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) mask.fill(1, at, at + needle.length);
  }
  return mask;
}

/**
 * A field inside a checksummed region set to a value the store never wrote there, and
 * the checksum made valid again: what a bug or a hostile tool leaves, not what a torn
 * write does. User bytes are left alone (a valid frame with other user bytes is a
 * legitimate other record).
 */
function resealed(bytes: Uint8Array, regions: readonly ChecksummedRegion[], userBytes: readonly Uint8Array[], hostile: HostileCase): Uint8Array | null {
  const mask = userMask(bytes, userBytes);
  const region = regions[hostile.choice % Math.max(1, regions.length)];
  if (region === undefined) return null;
  const first = region.fieldsFrom ?? region.start;
  const width = [1, 2, 4, 8][hostile.variant % 4] as number;
  const candidates: number[] = [];
  for (let at = first; at + width <= region.end; at++) if (!mask.subarray(at, at + width).some((bit) => bit === 1)) candidates.push(at);
  const at = candidates[hostile.detail % Math.max(1, candidates.length)];
  if (at === undefined) return null;
  const out = bytes.slice();
  const value = IMPOSSIBLE_FIELD_VALUES[Math.floor(hostile.variant / 4) % IMPOSSIBLE_FIELD_VALUES.length];
  if (value === 'all-ones') out.fill(0xff, at, at + width);
  else if (value === 'zero') out.fill(0, at, at + width);
  else if (value === 'high-bit') out[at + width - 1] = (out[at + width - 1] as number) ^ 0x80;
  else out[at] = ((out[at] as number) + 1) & 0xff;
  if (out.subarray(at, at + width).every((byte, index) => byte === bytes[at + index])) return null;
  new DataView(out.buffer).setUint32(region.crcAt, crc32c(out.subarray(region.start, region.end)), true);
  return out;
}

function writeFile(fs: FaultFs, path: string, bytes: Uint8Array): void {
  const file = fs.open(path, { create: true, truncate: true });
  try {
    if (bytes.length > 0) file.writeSync(bytes, 0);
  } finally {
    file.closeSync();
  }
}

/** The kind of a file: its name with every run of digits as '#' (segment 7's index and segment 9's are one kind). */
function kindOf(name: string): string {
  return name.replace(/\d+/g, '#');
}

/**
 * Applies one hostile change to a copy of store A (B is another store of the same
 * backend); returns what it did, or null when the case does not apply to that file.
 */
function plant(adapter: BackendAdapter, fs: FaultFs, a: BuiltStore, b: BuiltStore, hostile: HostileCase): string | null {
  const names = fs.list(STORE_DIR).filter((name) => fs.stat(joinPath(STORE_DIR, name))?.isFile === true);
  const name = names[hostile.file % names.length] as string;
  const path = joinPath(STORE_DIR, name);
  const bytes = fs.files().get(path) as Uint8Array;
  switch (hostile.kind) {
    case 'resealed': {
      const regions = [...coreFrames(bytes), ...(adapter.checksummedRegions?.(name, bytes) ?? [])];
      const out = resealed(bytes, regions, a.userBytes, hostile);
      if (out === null) return null;
      writeFile(fs, path, out);
      return `${name}: a field of a checksummed region set to an impossible value, checksum valid`;
    }
    case 'foreign': {
      const theirs = b.fs.files();
      const same = theirs.get(path) ?? [...theirs].find(([other]) => kindOf(other) === kindOf(path))?.[1];
      if (same === undefined || Buffer.compare(same, bytes) === 0) return null;
      writeFile(fs, path, same);
      return `${name}: replaced by the file of the same kind from another store`;
    }
    case 'temporary': {
      const suffix = TEMPORARY_SUFFIXES[hostile.choice % TEMPORARY_SUFFIXES.length] as string;
      const contents = [new Uint8Array(0), bytes, b.fs.files().get(path) ?? bytes, Uint8Array.from({ length: 64 }, (_, index) => (index * 37 + hostile.detail) & 0xff)];
      const planted = joinPath(STORE_DIR, `${name}${suffix}`);
      if (fs.stat(planted) !== null) return null;
      writeFile(fs, planted, contents[hostile.variant % contents.length] as Uint8Array);
      return `${name}${suffix} planted (${['empty', 'a copy of the file', 'the file of another store', 'garbage'][hostile.variant % contents.length]})`;
    }
    case 'directory': {
      if (hostile.variant % 2 === 0) {
        fs.remove(path);
        fs.mkdir(path);
        return `${name}: a directory in its place`;
      }
      const planted = joinPath(STORE_DIR, `${name}${TEMPORARY_SUFFIXES[hostile.choice % TEMPORARY_SUFFIXES.length]}`);
      if (fs.stat(planted) !== null) return null;
      fs.mkdir(planted);
      return `${planted.slice(STORE_DIR.length + 1)}: a directory where keel puts a temporary`;
    }
  }
}

export async function readAll(adapter: BackendAdapter, store: unknown): Promise<Expected> {
  if (adapter.kind === 'log') return { kind: 'log', payloads: (await adapter.read(store)).map((record) => record.payload) };
  return { kind: 'kv', entries: new Map(await adapter.read(store)) };
}

export function sameState(expected: Expected, found: Expected): boolean {
  if (expected.kind === 'log' && found.kind === 'log') return expected.payloads.length === found.payloads.length && expected.payloads.every((payload, index) => Buffer.compare(payload, found.payloads[index] as Uint8Array) === 0);
  if (expected.kind === 'kv' && found.kind === 'kv') return expected.entries.size === found.entries.size && [...expected.entries].every(([key, value]) => { const other = found.entries.get(key); return other !== undefined && Buffer.compare(value, other) === 0; });
  return false;
}

type Verdict = 'refused' | 'opened' | 'undetectable' | 'skipped';

/**
 * Opens store A with one hostile change planted: it must refuse with a KeelError and
 * leave every file and directory as it was, or open and hold exactly what was written
 * (everything was acknowledged) — a read may refuse damage too, with KEEL_CORRUPT and an
 * offset. A foreign file a format without a store identity cannot tell from its own
 * counts as undetectable (`adapter.carriesNoStoreIdentity`).
 */
async function checkHostile(adapter: BackendAdapter, a: BuiltStore, b: BuiltStore, hostile: HostileCase): Promise<Verdict> {
  const fs = a.fs.clone();
  const what = plant(adapter, fs, a, b, hostile);
  if (what === null) return 'skipped';
  const before = treeImage(fs);
  let store: unknown;
  try {
    store = await adapter.open(fs, STORE_DIR, { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
  } catch (error) {
    if (!isKeelError(error)) violation(`${what}: open threw ${describeError(error)}, not a KeelError`);
    if (!sameImage(before, treeImage(fs))) violation(`${what}: open refused (${error.code}) but changed the store's files`);
    return 'refused';
  }
  try {
    let found: Expected;
    try {
      found = await readAll(adapter, store);
    } catch (error) {
      if (isKeelError(error, 'KEEL_CORRUPT') && typeof error.offset === 'number') return 'refused';
      violation(`${what}: open succeeded, then reading failed with ${describeError(error)}`);
    }
    if (sameState(a.expected, found)) return 'opened';
    if (hostile.kind === 'foreign' && adapter.carriesNoStoreIdentity?.(what.slice(0, what.indexOf(':'))) === true) return 'undetectable';
    violation(`${what}: open succeeded but the store no longer holds exactly what was written and acknowledged`);
  } finally {
    await adapter.close(store).catch(() => undefined);
  }
}

export const hostileCaseArbitrary: fc.Arbitrary<HostileCase> = fc.record({
  kind: fc.constantFrom(...HOSTILE_CLASSES),
  file: fc.nat({ max: 64 }),
  choice: fc.nat({ max: 64 }),
  detail: fc.nat({ max: 4096 }),
  variant: fc.nat({ max: 64 }),
});

/**
 * Hostile files, for every file kind the backend keeps: valid checksums with impossible
 * contents, files copied from another store of the same backend, names that collide with
 * keel's temporaries (`*.tmp`, `*.saving`, `*.torn-*`, `*.compacting`), and directories
 * where files belong. Every file of the store meets every class once (fast-check
 * examples), then `runs` generated cases follow; a failure prints fast-check's seed and
 * path and names the file and the change.
 */
export async function runHostileFiles(adapter: BackendAdapter, options: { runs?: number; seed?: number; path?: string } = {}): Promise<HostileSummary> {
  const a = await buildStore(adapter, 1);
  const b = await buildStore(adapter, 2);
  const summary: HostileSummary = { cases: 0, refused: 0, opened: 0, undetectable: 0, skipped: 0 };
  const files = a.fs.list(STORE_DIR).length;
  const examples: [HostileCase][] = [];
  for (let file = 0; file < files; file++) for (const kind of HOSTILE_CLASSES) examples.push([{ kind, file, choice: 0, detail: 0, variant: 0 }]);
  const property = fc.asyncProperty(hostileCaseArbitrary, async (hostile) => {
    const verdict = await checkHostile(adapter, a, b, hostile);
    summary.cases++;
    summary[verdict]++;
  });
  const parameters: fc.Parameters<[HostileCase]> = { numRuns: (options.runs ?? HOSTILE_RUNS_DEFAULT) + examples.length, examples };
  if (options.seed !== undefined) parameters.seed = options.seed;
  if (options.path !== undefined) parameters.path = options.path;
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `\nCaused by: ${error.cause.message}` : '';
    if (error instanceof Error) throw new ConformanceViolation(`${adapter.name}: hostile files: ${error.message}${cause}`);
    throw error;
  }
  return summary;
}
