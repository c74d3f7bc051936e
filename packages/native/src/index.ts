/**
 * `@keel/native`: the public, ESM entry of keel's Rust IO addon.
 *
 * The addon itself is loaded through the CommonJS loader that `napi build` generates
 * (`binding/index.cjs`, which picks the `.node` file for this platform). This module
 * only gives it the stable, hand-written types below: the generated `.d.ts` is a build
 * output and may not exist when a dependent package type-checks.
 *
 * Errors: every failure is an `Error` built in Rust with `code` (`ENOENT`, `EBUSY`,
 * `ECLOSED`, `ERANGE`, …), `errno` (the positive OS number), `syscall`, `path` (and
 * `dest` for renames) and a Node-style message: `ENOENT: no such file or directory,
 * open '/x/y'`. See {@link NativeError}.
 */
import { loadBinding } from './load-binding.js';

export interface OpenOptions {
  /** Open for reading. Default `true`; pass `false` for a write-only descriptor. */
  read?: boolean;
  write?: boolean;
  /** O_CREAT. Implies `write`. */
  create?: boolean;
  /** O_TRUNC. Implies `write`. */
  truncate?: boolean;
  /** O_CREAT|O_EXCL: fail with `EEXIST` when the file exists. Implies `create`. */
  createNew?: boolean;
  /**
   * Exclusive advisory lock, flock(LOCK_EX|LOCK_NB). A conflict — another process, or
   * another open of the same file in this process — throws code `EBUSY`. Released by
   * `close()`.
   */
  lock?: boolean;
  /**
   * O_DIRECT. Where the filesystem refuses it (tmpfs, …) the file is opened buffered,
   * `isDirect` is `false` and `directFallback` says why. Direct IO needs buffers,
   * positions and lengths aligned to the device's logical block size (see
   * {@link allocAligned}); misaligned IO fails with `EINVAL`.
   */
  direct?: boolean;
}

export type Advice = 'normal' | 'sequential' | 'random' | 'willneed' | 'dontneed';

export interface StatResult {
  size: number;
  isFile: boolean;
  isDirectory: boolean;
}

/**
 * How many bytes of a {@link NativeFile.copyRangeFrom} each method moved; they add up to
 * the bytes copied.
 */
export interface CopiedBytes {
  /** Shared with the source by `FICLONERANGE` (copy-on-write blocks: nothing read or written). */
  reflink: number;
  /** Copied by `copy_file_range(2)` inside the kernel (which may itself share blocks or copy server-side). */
  copyFileRange: number;
  /** Copied through a buffer with `pread`/`pwrite`, where neither of the above works. */
  readWrite: number;
}

/** The shape of every error this package throws or rejects with. */
export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

/**
 * An open file descriptor. Not constructible with `new`: use {@link NativeFile.open}.
 * Positions and lengths are JS numbers: non-negative integers up to 2^53 − 1, anything
 * else throws `EINVAL`. Every method throws `ECLOSED` after `close()`. Async methods run
 * on the libuv threadpool; the buffers passed to them must not be touched until the
 * promise settles.
 */
export interface NativeFile {
  readonly path: string;
  readonly isDirect: boolean;
  /** Why O_DIRECT was not used although asked for, else `null`. */
  readonly directFallback: string | null;
  readonly closed: boolean;
  /** pwrite until all of `data` is written. Returns `data.length`. */
  writeSync(data: Uint8Array, position: number): number;
  /**
   * `writeSync` then `datasyncSync` in one call (one crossing instead of two): nothing is
   * synced when the write fails, and a failed fdatasync is never retried. Returns
   * `data.length`.
   */
  writeDatasyncSync(data: Uint8Array, position: number): number;
  /** pwritev of all buffers back to back, looping on partial writes and IOV_MAX. */
  writevSync(buffers: Uint8Array[], position: number): number;
  write(data: Uint8Array, position: number): Promise<number>;
  writev(buffers: Uint8Array[], position: number): Promise<number>;
  /** pread into `into`; returns the bytes read, fewer than `into.length` only at EOF. */
  readSync(into: Uint8Array, position: number): number;
  read(into: Uint8Array, position: number): Promise<number>;
  /**
   * Copies `length` bytes at `sourcePosition` of `source` to `position` of this file, on
   * the libuv threadpool, the cheapest way the file systems allow: a reflink
   * (`FICLONERANGE`, for the block-aligned part, or all of it when it runs to the
   * source's end), else `copy_file_range(2)`, else `pread`/`pwrite`. A step the file
   * systems refuse (`EOPNOTSUPP`, `EXDEV`, `EINVAL`, `ENOSYS`) hands the rest to the
   * next; any other error rejects. The counts add up to less than `length` only where the
   * source ends. `source` must be another file. The copied bytes are durable only after
   * a sync of this file, like written ones.
   */
  copyRangeFrom(source: NativeFile, sourcePosition: number, length: number, position: number): Promise<CopiedBytes>;
  sizeSync(): number;
  setLengthSync(length: number): void;
  datasyncSync(): void;
  datasync(): Promise<void>;
  fsyncSync(): void;
  fsync(): Promise<void>;
  /** fallocate(FALLOC_FL_KEEP_SIZE). `false` (no throw) where the filesystem cannot. */
  preallocateSync(offset: number, length: number): boolean;
  adviseSync(offset: number, length: number, advice: Advice): void;
  /**
   * A read-only, zero-copy view of `[offset, offset + length)`, which must lie inside
   * the file (`ERANGE` otherwise, and for `length === 0`). The mapping lives until the
   * Buffer is garbage collected, also after `close()`. Never write to the Buffer (the
   * pages are read-only: the process would crash) and never map bytes that may be
   * truncated while mapped (reading them would raise SIGBUS).
   */
  mapSync(offset: number, length: number): Buffer;
  /** Closes the descriptor (releasing a lock). A second close throws `ECLOSED`. */
  closeSync(): void;
  close(): Promise<void>;
}

export interface NativeFileConstructor {
  /** Always throws: use {@link NativeFileConstructor.open}. */
  new (notConstructible: never): NativeFile;
  readonly prototype: NativeFile;
  open(path: string, options?: OpenOptions): NativeFile;
}

export interface SyncThreadOptions {
  /**
   * How long the thread spins, watching for the next request, before it parks: 0 (the
   * default) to 1000 µs. A request that comes while it spins skips the wake-up of a
   * parked thread; each spin burns up to this much CPU per sync.
   */
  spinMicroseconds?: number;
}

/**
 * One OS thread that runs `fdatasync` / `fsync` for the files handed to it, in place of
 * the libuv threadpool: no shared queue, and a parked thread woken directly. Requests
 * queued together are answered by one sync per file (the strongest asked for), each
 * made after every one of them was asked. Idle, it does not keep the process alive; a
 * sync in flight does. Promises reject with the same errors as `NativeFile`'s.
 */
export interface SyncThread {
  readonly spinMicroseconds: number;
  readonly closed: boolean;
  /** `fdatasync` of `file` on this thread. Throws `ECLOSED` for a closed file or thread. */
  datasync(file: NativeFile): Promise<void>;
  /** `fsync` of `file` on this thread. Throws `ECLOSED` for a closed file or thread. */
  fsync(file: NativeFile): Promise<void>;
  /**
   * Refuses new syncs; those already asked for still run and settle, then the thread
   * exits. Never waits. A second close throws `ECLOSED`.
   */
  close(): void;
}

export interface SyncThreadConstructor {
  /** Starts the thread; `spinMicroseconds` above 1000 throws `EINVAL`. */
  new (options?: SyncThreadOptions): SyncThread;
  readonly prototype: SyncThread;
}

/** What one `KeyTable.copyLivePuts` call did: the record has `puts` puts, those before `next` were looked at, and `copied` of them (`bytes` in all) were copied. */
export interface LiveCopyReport {
  puts: number;
  next: number;
  copied: number;
  bytes: number;
}

/**
 * wal-kv's in-memory index: a hash table over key bytes (a 40-byte entry per key with
 * value position, value length, seq, and the key itself when it is at most 16 bytes;
 * longer keys in one arena) with an ordered view for
 * ranges kept lazily. Pure computation over memory the caller hands in: it never
 * touches a file. Calls that are handed impossible contents (a record or checkpoint
 * chunk that does not check out) throw an `Error` with code `InvalidArg` and the reason
 * as its message; the table is then to be discarded (`copyLivePuts`, which changes
 * nothing, throws `RecordDamaged` instead).
 */
export interface KeyTable {
  /** Live keys. */
  readonly size: number;
  /** Log bytes holding overwritten puts and deletes (what compaction would reclaim). */
  deadBytes: number;
  /** Bytes the table holds (allocated capacity). */
  memoryBytes(): number;
  /**
   * Looks up `key[0..keyLength]`: writes value position, value length, seq, the key's
   * CRC-32C (the seed of its value's CRC), key length, and 1 when the value is still in
   * the log before the current one (see `switchLog`) else 0, into `out[0..6]`; returns
   * the slot, or -1 when absent.
   */
  find(key: Uint8Array, keyLength: number, out: Float64Array): number;
  /**
   * `find` of a string key by its UTF-8 bytes, with no buffer to fill first: the slot,
   * -1 when absent, or -2 when the key is empty or longer than the table's key bound.
   */
  findString(key: string, out: Float64Array): number;
  /**
   * A get in one call: looks `key` (a string, by its UTF-8 bytes) up and, when its value
   * lies wholly in one of `segments` (`segments[i]`, when set, is the mapping of bytes
   * `[i * segmentBytes, i * segmentBytes + segments[i].length)` of the current log,
   * at most `segmentBytes`), checks the value's
   * CRC-32C (seeded with the key's) and copies it into `into` at `at`. Returns the value's
   * length (the verified bytes are in `into[at..at + length]`), -1 when absent, -2 when the key is
   * empty or longer than the table's key bound, or -3 when the key is present but its
   * value was not read here (in the write buffer, an unmapped segment or the previous
   * log, larger than the room in `into`, or failing its CRC): `find`'s fields are then in `out`.
   */
  readString(key: string, segments: ReadonlyArray<Uint8Array | undefined>, segmentBytes: number, into: Uint8Array, at: number, out: Float64Array): number;
  /** `readString` of the key `key[0..keyLength]` (never -2). */
  readBytes(key: Uint8Array, keyLength: number, segments: ReadonlyArray<Uint8Array | undefined>, segmentBytes: number, into: Uint8Array, at: number, out: Float64Array): number;
  /**
   * `readString` with its arrays bound once instead of passed per call (the way lmdb-js
   * passes keys), as a function of its own (no method-call bookkeeping on the hot path):
   * the key is `key[0..keyLength]` of the buffer bound by `bindReadKey`, the value goes
   * to the buffer bound as target `target` (0 or 1, `bindReadTarget`) from `at` on, the
   * segments are those bound by `bindReadSegments`, and `find`'s fields go to the array
   * bound by `bindReadKey`. Results as `readString`'s. The function keeps the table alive.
   */
  boundReader(): (keyLength: number, target: number, at: number) => number;
  /**
   * Binds the buffer the bound reader takes keys from and the array (6 fields or more) it
   * writes fields to. Every bound array is held until bound again or the table is
   * collected; none may be detached (transferred) while bound, or alias another.
   */
  bindReadKey(key: Uint8Array, fields: Float64Array): void;
  /** Binds `into` as the bound reader's target number `target` (0 or 1). */
  bindReadTarget(target: number, into: Uint8Array): void;
  /**
   * Binds the log's mapped segments for the bound reader, as `readString` takes them; bind
   * them again whenever they change (the mappings bound stay mapped until then).
   */
  bindReadSegments(segments: ReadonlyArray<Uint8Array | undefined>, segmentBytes: number): void;
  /**
   * The write path: seals the record frame at `buffer[start..end]` (at log offset
   * `frameOffset` of log generation `generation`; place, value CRCs and frame CRC still
   * to fill) and applies it (`sealRecord` then `applySealedRecord` in one call), unless
   * it would leave more than `keysMax` keys and more than now: then it changes nothing
   * and returns false.
   *
   * With read views open, `captureSeq` is the newest view's seq: each entry the record
   * replaces or removes that was written at or before it is reported in `captured`
   * before it changes: `captured[0]` is their count, then per entry 7 fields (the
   * offset of its key in `buffer`, then the six fields `find` writes). `captured`
   * must hold 1 + 7 fields per operation.
   */
  commitRecord(buffer: Uint8Array, start: number, end: number, frameOffset: number, keysMax: number, generation: number, captureSeq?: number, captured?: Float64Array): boolean;
  /**
   * The first half of `commitRecord`: fills in the place, value CRCs and frame CRC of the
   * record frame at `buffer[start..end]` without changing the table, unless the record
   * would leave more than `keysMax` keys and more than now: then it returns false. The key
   * count is checked against the table as it is: apply a sealed record before sealing the
   * next.
   */
  sealRecord(buffer: Uint8Array, start: number, end: number, frameOffset: number, keysMax: number, generation: number): boolean;
  /**
   * The second half of `commitRecord`: applies the record `sealRecord` sealed at
   * `buffer[start..end]`, log offset `frameOffset`, its bytes unchanged since.
   */
  applySealedRecord(buffer: Uint8Array, start: number, end: number, frameOffset: number): void;
  /**
   * Applies a record read back (frame CRC checked) whose payload is at log offset
   * `payloadOffset` of log generation `generation` (its place must say so); seqs must
   * increase from `previousSeq`. Returns the last seq.
   */
  replayRecord(payload: Uint8Array, payloadOffset: number, previousSeq: number, generation: number): number;
  /**
   * For compaction: which puts of a record read back (frame CRC checked) whose payload is
   * at log offset `payloadOffset` still hold their key's value (the key's entry names this
   * put). Per such put, in log order, four numbers go into `out`: where the operation
   * starts in `payload`, where its key ends, where it ends, and the key's slot. Returns
   * how many; `out` must hold four per put the record may have (a put takes at least 20
   * bytes). Throws for impossible contents, every length bounded as at replay.
   */
  livePuts(payload: Uint8Array, payloadOffset: number, out: Uint32Array): number;
  /**
   * For compaction: looks at the puts of a record read back (as for `livePuts`) from the
   * `first`th on, at most `putsMax` of them, and copies each that still holds its key's
   * value, as it is, into `target` from `targetAt` on, back to back (`target[0]` is at log
   * position `targetPosition` of the new log); per copied put, from `movesAt` on, its
   * key's slot, where its value was and where it is now go into `slots`, `from` and `to`
   * (the arguments of `relocate`). Returns the record's put count, the index of the next
   * put to look at, and how many puts and bytes were copied. Throws, changing nothing
   * (the table stays usable): code `RecordDamaged` for impossible contents, every length
   * bounded as at replay (damage on disk); code `InvalidArg` for a wrong call (the copied
   * puts or moves would not fit, `putsMax` is 0, a position is not a safe integer), which
   * is a bug of the caller's, not damage. `payload` and `target` must not overlap.
   */
  copyLivePuts(
    payload: Uint8Array,
    payloadOffset: number,
    first: number,
    putsMax: number,
    target: Uint8Array,
    targetAt: number,
    targetPosition: number,
    slots: Uint32Array,
    from: Float64Array,
    to: Float64Array,
    movesAt: number,
  ): LiveCopyReport;
  /**
   * Up to `limit` entries in key byte order (descending with `reverse`) between the
   * bounds (`null`: open), fewer when `keys` fills: per entry the six fields `find`
   * writes into `out`, the keys back to back into `keys`. Returns the count. With
   * `catchUp` false (default true) the ordered view is walked as last brought up to
   * date: keys added since are missing, keys removed since skipped, and no merge
   * (linear in the key count) is paid.
   */
  range(lower: Uint8Array | null, lowerInclusive: boolean, upper: Uint8Array | null, upperInclusive: boolean, reverse: boolean, limit: number, out: Float64Array, keys: Uint8Array, catchUp?: boolean): number;
  /**
   * Brings the ordered view up to date by about `budget` keys' worth of work, in steps
   * of a millisecond or two, for callers that must not block; true once it is up to
   * date. The table may change between calls: ranges walked without catching up see the
   * view as it was until the call that returns true, and a range that catches up
   * finishes the refresh at once.
   */
  refreshOrderStep(budget: number): boolean;
  /** Every entry as checkpoint chunk payloads of about `chunkBytes`, in key order. */
  checkpointChunks(chunkBytes: number): Buffer[];
  /**
   * Writes the entries of a checkpoint taken at `seqMax` whose keys lie strictly between
   * `after` and `before` (null: unbounded), in key order, in checkpoint chunk encoding:
   * the live entries written at or before `seqMax` (a key written since, or removed, is
   * the caller's read view's to supply), fixed fields into `fixed` from `fixedAt`, keys
   * into `keys` from `keysAt`, in at most `room` bytes of both and `visits` slots of the
   * ordered view walked as it stands. `out` gets the entries written, their key bytes,
   * and why it stopped: 0 every entry below `before` is written, 1 the next does not fit,
   * 2 the visits ran out.
   */
  checkpointEntries(after: Uint8Array | null, before: Uint8Array | null, seqMax: number, visits: number, room: number, fixed: Uint8Array, fixedAt: number, keys: Uint8Array, keysAt: number, out: Float64Array): void;
  /**
   * Starts loading a checkpoint file of `fileBytes` bytes into this empty table (refused
   * when the file is too small to hold `entryCount` entries); entries must point into
   * [positionMin, positionEnd) and have seq ≤ seqMax.
   */
  beginLoad(entryCount: number, fileBytes: number, positionMin: number, positionEnd: number, seqMax: number): void;
  loadChunk(payload: Uint8Array): void;
  /** Ends a load; throws unless exactly `entryCount` entries came. */
  finishLoad(): void;
  /**
   * A compaction switched logs: every value is now in the previous log (field 5 of
   * `find` and `range` says 1) until it is written again or moved by `relocate`. Constant time.
   */
  switchLog(): void;
  /**
   * Moves values from the previous log to the current one (compaction): `slots[i]` goes
   * from log position `from[i]` to `to[i]` while its value is still at `from[i]` of the
   * previous log; a key written or removed since is left as it is. Returns how many moved.
   */
  relocate(slots: Uint32Array, from: Float64Array, to: Float64Array): number;
}

export interface KeyTableConstructor {
  /** An empty table; records and checkpoints are checked against these bounds. */
  new (keyBytesMax: number, valueBytesMax: number): KeyTable;
  readonly prototype: KeyTable;
}

interface Binding {
  NativeFile: NativeFileConstructor;
  KeyTable: KeyTableConstructor;
  SyncThread: SyncThreadConstructor;
  syncDirSync(path: string): void;
  syncDir(path: string): Promise<void>;
  renameSync(from: string, to: string): void;
  renameDurableSync(from: string, to: string): void;
  renameDurable(from: string, to: string): Promise<void>;
  removeFileSync(path: string): void;
  removeFile(path: string): Promise<void>;
  createDirSync(path: string, recursive?: boolean): void;
  listDirSync(path: string): string[];
  statSync(path: string): StatResult | null;
  crc32c(data: Uint8Array, seed?: number): number;
  verifiedCopy(data: Uint8Array, offset: number, length: number, seed: number, into: Uint8Array): boolean;
  verifiedValueRun(segments: ReadonlyArray<Uint8Array | undefined>, segmentBytes: number, fields: Float64Array, count: number, into: Uint8Array, done: Uint8Array): number;
  crc32(data: Uint8Array, seed?: number): number;
  md5(data: Uint8Array): Promise<string>;
  sha256(data: Uint8Array): Promise<string>;
  scanFrames(chunk: Uint8Array, magic: number, payloadMax: number, ends: Uint32Array): number;
  sealFrames(region: Uint8Array): number;
  allocAligned(length: number, alignment?: number): Buffer;
  isAligned(data: Uint8Array, alignment: number): boolean;
  addressOffset(data: Uint8Array, alignment: number): number;
  faultInFreshMemory(length: number, hugePages: boolean): void;
}

const binding = loadBinding<Binding>();

export const NativeFile: NativeFileConstructor = binding.NativeFile;
export const KeyTable: KeyTableConstructor = binding.KeyTable;
export const SyncThread: SyncThreadConstructor = binding.SyncThread;

/** open(O_RDONLY|O_DIRECTORY) + fsync: makes entries created, renamed or removed in the directory durable. */
export const syncDirSync: (path: string) => void = binding.syncDirSync;
export const syncDir: (path: string) => Promise<void> = binding.syncDir;
/** Plain rename(2); not durable until the parent directory is synced. */
export const renameSync: (from: string, to: string) => void = binding.renameSync;
/** rename(2), then fsync of the destination's directory and of the source's when different. */
export const renameDurableSync: (from: string, to: string) => void = binding.renameDurableSync;
export const renameDurable: (from: string, to: string) => Promise<void> = binding.renameDurable;
/** unlink(2). */
export const removeFileSync: (path: string) => void = binding.removeFileSync;
/** `removeFileSync` on the threadpool. */
export const removeFile: (path: string) => Promise<void> = binding.removeFile;
/** mkdir(2); with `recursive`, like `mkdir -p` (an existing directory is fine). */
export const createDirSync: (path: string, recursive: boolean) => void = binding.createDirSync;
/** Entry names, sorted by their UTF-8 bytes, without `.` and `..`. */
export const listDirSync: (path: string) => string[] = binding.listDirSync;
/** stat(2) following symlinks; `null` when the path does not exist (ENOENT). */
export const statSync: (path: string) => StatResult | null = binding.statSync;
/**
 * CRC-32C (Castagnoli), in hardware where the CPU has it. `seed` is a previous result:
 * `crc32c(b, crc32c(a)) === crc32c(concat(a, b))`. Returns an unsigned 32-bit number.
 */
export const crc32c: (data: Uint8Array, seed?: number) => number = binding.crc32c;
/**
 * A value read back and checked in one call: when the CRC-32C stored (u32 LE) at
 * `data[offset..offset + 4]` matches the `length` bytes after it, seeded with `seed`,
 * copies them into `into[0..length]` and returns true; false, copying nothing, when it
 * does not. Bounds past `data` or `into` throw.
 */
export const verifiedCopy: (data: Uint8Array, offset: number, length: number, seed: number, into: Uint8Array) => boolean = binding.verifiedCopy;
/**
 * The values of a run of index entries (one batch of `KeyTable.range`: six fields each) in
 * one call: the first `count` entries' values go back to back, in entry order, into
 * `into` (entry i at the sum of the value lengths before it); `done[i]` is set to 1 for
 * each value read here, verified against its CRC-32C (seeded with its key's) in one of
 * the current log's mapped `segments` (as for `KeyTable.readString`), else 0 (in the
 * previous log, the write buffer, an unmapped segment, past the end of `into`, or failing
 * its CRC: read it the general way). Returns how many were read.
 */
export const verifiedValueRun: (segments: ReadonlyArray<Uint8Array | undefined>, segmentBytes: number, fields: Float64Array, count: number, into: Uint8Array, done: Uint8Array) => number = binding.verifiedValueRun;
/** CRC-32 (IEEE 802.3 / zlib), with the same running-seed semantics as {@link crc32c}. */
export const crc32: (data: Uint8Array, seed?: number) => number = binding.crc32;
/**
 * MD5 of `data` as 32 lowercase hex digits, computed on the libuv threadpool so a large
 * buffer does not hold the JS thread. Do not change `data` until the promise settles.
 */
export const md5: (data: Uint8Array) => Promise<string> = binding.md5;
/** SHA-256 of `data` as 64 lowercase hex digits, on the threadpool; the same rule as {@link md5}. */
export const sha256: (data: Uint8Array) => Promise<string> = binding.sha256;
/**
 * Validates every whole keel frame in `chunk` in one call (magic u32 BE, length u32 LE
 * bounded by `payloadMax`, payload, CRC-32C u32 LE) and writes each frame's end offset,
 * relative to the chunk, into `ends`. Returns `stop * 2^32 + count`; decode it with
 * {@link decodeScan}. Stop codes are {@link FRAME_SCAN_STOP}.
 */
export const scanFrames: (chunk: Uint8Array, magic: number, payloadMax: number, ends: Uint32Array) => number = binding.scanFrames;

/**
 * Fills in the CRC-32C of every frame in `region`, whose headers and payloads are already
 * written (CRC slots left for this call): one crossing for a whole batch. Returns the
 * number of frames; throws `EINVAL` when the header lengths do not tile the region.
 */
export const sealFrames: (region: Uint8Array) => number = binding.sealFrames;

/** Why `scanFrames` stopped. */
export const FRAME_SCAN_STOP = Object.freeze({
  end: 0,
  full: 1,
  badMagic: 2,
  lengthOverflow: 3,
  checksumMismatch: 4,
  partialHeader: 5,
  partialPayload: 6,
} as const);

export function decodeScan(result: number): { count: number; stop: number } {
  const stop = Math.floor(result / 4_294_967_296);
  return { count: result - stop * 4_294_967_296, stop };
}

/**
 * A zero-filled Buffer whose first byte sits at a multiple of `alignment` (a power of
 * two, default 4096), as O_DIRECT needs. Node cannot allocate aligned memory itself.
 */
export const allocAligned: (length: number, alignment?: number) => Buffer = binding.allocAligned;
/** Whether the first byte of `data` sits at a multiple of `alignment`. */
export const isAligned: (data: Uint8Array, alignment: number) => boolean = binding.isAligned;
/**
 * How many bytes past a multiple of `alignment` (a power of two) the first byte of `data`
 * sits. The address is not visible to JS; a reader that places its reads needs it.
 */
export const addressOffset: (data: Uint8Array, alignment: number) => number = binding.addressOffset;
/**
 * Writes one byte in every 4 KiB page of `length` bytes of fresh anonymous memory, with
 * transparent huge pages asked for as `KeyTable` asks for them (`hugePages`) or not, then
 * frees it: what first touching that much new memory costs, the floor under loading a
 * table of that size. For benchmarks.
 */
export const faultInFreshMemory: (length: number, hugePages: boolean) => void = binding.faultInFreshMemory;
