import { KeelError } from './errors.js';
import type { Advice, Io, IoFile, IoOpenOptions, IoStat } from './io.js';
import { parentDir } from './paths.js';

/** Bytes of one copy-on-write page: recovery writes little, and rarely where it reads. */
const PAGE_BYTES = 64 * 1024;

/**
 * An Io that reads the real files and keeps every change in memory: a store opened
 * through it runs its whole recovery — cuts, saved tails, rebuilt indexes, removed
 * leftovers — and sees the result, while nothing on disk is written, truncated, renamed,
 * created or removed, and no lock is taken. This is how a read-only open works beside a
 * live writer and reports what a real recovery would do without doing it.
 *
 * Each file is seen as it was when the overlay first opened it: its size is taken then,
 * so a writer appending meanwhile cannot move the end under a recovery that already
 * decided where it is (open again to see later data). Changes go to pages held here.
 * Syncs do nothing: there is nothing of ours to make durable.
 */
export class OverlayIo implements Io {
  readonly #inner: Io;
  readonly #entries = new Map<string, Entry>();
  /** Paths removed (or renamed away) in the overlay, and directories made in it. */
  readonly #removed = new Set<string>();
  readonly #directories = new Set<string>();

  constructor(inner: Io) {
    this.#inner = inner;
  }

  /** Whether anything would have changed on disk: the store's recovery acted. */
  get changed(): boolean {
    return this.#removed.size > 0 || this.#directories.size > 0 || [...this.#entries.values()].some((entry) => entry.changed);
  }

  open(path: string, options: IoOpenOptions = {}): IoFile {
    let entry = this.#entries.get(path);
    const exists = entry !== undefined || (!this.#removed.has(path) && this.#inner.stat(path) !== null);
    if (exists && options.createNew === true) throw overlayError('EEXIST', 'open', path);
    if (!exists && options.create !== true && options.createNew !== true) throw overlayError('ENOENT', 'open', path, 'KEEL_NOT_FOUND');
    if (entry === undefined) {
      entry = new Entry(path, exists ? this.#inner : null);
      // A real open pins the file it opens, so the real one is opened now: a file removed
      // since the check fails here, as it would through the inner Io, and reads see the file
      // that was opened, never a later one at the same name.
      if (exists) entry.pin();
      this.#entries.set(path, entry);
      this.#removed.delete(path);
    }
    const file = new OverlayFile(entry);
    if (options.truncate === true) file.setLengthSync(0);
    return file;
  }

  stat(path: string): IoStat | null {
    if (this.#directories.has(path)) return { size: 0, isFile: false, isDirectory: true };
    const entry = this.#entries.get(path);
    if (entry !== undefined) return { size: entry.size(), isFile: true, isDirectory: false };
    if (this.#removed.has(path)) return null;
    return this.#inner.stat(path);
  }

  list(dir: string): string[] {
    const names = new Set(this.#inner.stat(dir)?.isDirectory === true ? this.#inner.list(dir) : []);
    for (const path of this.#removed) if (parentDir(path) === dir) names.delete(path.slice(dir.length + 1));
    for (const path of [...this.#entries.keys(), ...this.#directories]) if (parentDir(path) === dir) names.add(path.slice(dir.length + 1));
    return [...names].sort();
  }

  mkdir(dir: string): void {
    for (let path = dir; this.stat(path) === null && parentDir(path) !== path; path = parentDir(path)) this.#directories.add(path);
  }

  remove(path: string): void {
    if (this.stat(path) === null) throw overlayError('ENOENT', 'unlink', path, 'KEEL_NOT_FOUND');
    this.#entries.delete(path);
    this.#directories.delete(path);
    this.#removed.add(path);
  }

  rename(from: string, to: string): void {
    if (this.stat(from) === null) throw overlayError('ENOENT', 'rename', from, 'KEEL_NOT_FOUND');
    const entry = this.#entries.get(from) ?? new Entry(from, this.#inner);
    entry.renameTo(to);
    this.#entries.delete(from);
    this.#removed.add(from);
    this.#entries.set(to, entry);
    this.#removed.delete(to);
  }

  async syncDir(): Promise<void> {}

  syncDirSync(): void {}

  watch(path: string, onChange: () => void): { close(): void } {
    return this.#inner.watch?.(path, onChange) ?? { close: () => undefined };
  }

  /** Closes the handles it holds on the real files; the overlay's changes are dropped. */
  close(): void {
    for (const entry of this.#entries.values()) entry.close();
    this.#entries.clear();
  }
}

/**
 * One file as the overlay sees it: the real file (read through a handle of its own)
 * under the pages written here, cut at `#baseLimit` once something truncated it.
 */
class Entry {
  #path: string;
  readonly #inner: Io | null;
  #base: IoFile | null = null;
  #frozenSize: number | null = null;
  /** The real file's size when first seen: the end of this view of it. */
  #seenSize: number | null = null;
  #baseLimit = Number.MAX_SAFE_INTEGER;
  readonly #pages = new Map<number, Uint8Array>();

  constructor(path: string, inner: Io | null) {
    this.#path = path;
    this.#inner = inner;
    if (inner === null) this.#frozenSize = 0;
  }

  get path(): string {
    return this.#path;
  }

  get changed(): boolean {
    return this.#frozenSize !== null;
  }

  /** Opens the real file now rather than at the first read. */
  pin(): void {
    this.#baseFile();
  }

  renameTo(path: string): void {
    this.#freeze();
    this.#path = path;
  }

  size(): number {
    return this.#frozenSize ?? this.#realSize();
  }

  read(into: Uint8Array, position: number): number {
    const end = Math.min(this.size(), position + into.length);
    for (let at = position; at < end; ) {
      const page = Math.floor(at / PAGE_BYTES);
      const pageEnd = Math.min((page + 1) * PAGE_BYTES, end);
      const held = this.#pages.get(page);
      if (held !== undefined) into.set(held.subarray(at - page * PAGE_BYTES, pageEnd - page * PAGE_BYTES), at - position);
      else this.#readBase(into.subarray(at - position, pageEnd - position), at);
      at = pageEnd;
    }
    return Math.max(0, end - position);
  }

  write(data: Uint8Array, position: number): void {
    this.#freeze();
    for (let at = position; at < position + data.length; ) {
      const page = Math.floor(at / PAGE_BYTES);
      const pageEnd = Math.min((page + 1) * PAGE_BYTES, position + data.length);
      this.#page(page).set(data.subarray(at - position, pageEnd - position), at - page * PAGE_BYTES);
      at = pageEnd;
    }
    this.#frozenSize = Math.max(this.#frozenSize as number, position + data.length);
  }

  setLength(length: number): void {
    this.#freeze();
    if (length < (this.#frozenSize as number)) {
      this.#baseLimit = Math.min(this.#baseLimit, length);
      for (const [page, bytes] of this.#pages) {
        const start = page * PAGE_BYTES;
        if (start >= length) this.#pages.delete(page);
        else if (start + PAGE_BYTES > length) bytes.fill(0, length - start);
      }
    }
    this.#frozenSize = length;
  }

  /** A view for `mapSync`: the real file's mapping while nothing changed, else a copy. */
  map(offset: number, length: number): Uint8Array {
    if (!this.changed) return this.#baseFile().mapSync(offset, length);
    const copy = new Uint8Array(length);
    if (this.read(copy, offset) !== length) throw overlayError('EINVAL', 'mmap', this.#path);
    return copy;
  }

  /** The real file, for bytes this view has not changed and that lie within what it saw. */
  backingFile(position: number, length: number): IoFile | null {
    if (this.changed || position + length > this.size()) return null;
    return this.#baseFile().backingFile?.(position, length) ?? null;
  }

  close(): void {
    this.#base?.closeSync();
    this.#base = null;
  }

  #freeze(): void {
    if (this.#frozenSize === null) this.#frozenSize = this.#realSize();
  }

  #realSize(): number {
    this.#seenSize ??= this.#baseFile().sizeSync();
    return this.#seenSize;
  }

  #page(page: number): Uint8Array {
    let bytes = this.#pages.get(page);
    if (bytes === undefined) {
      bytes = new Uint8Array(PAGE_BYTES);
      this.#readBase(bytes, page * PAGE_BYTES);
      this.#pages.set(page, bytes);
    }
    return bytes;
  }

  /** Real bytes below the base limit; zeros past it (a truncate then an extension reads zeros). */
  #readBase(into: Uint8Array, position: number): void {
    into.fill(0);
    if (this.#inner === null) return;
    const wanted = Math.min(into.length, Math.min(this.#baseLimit, this.#realSize()) - position);
    if (wanted > 0) this.#baseFile().readSync(into.subarray(0, wanted), position);
  }

  #baseFile(): IoFile {
    if (this.#base === null) {
      if (this.#inner === null) throw new Error('an overlay-only file has no base');
      this.#base = this.#inner.open(this.#path, {});
    }
    return this.#base;
  }
}

class OverlayFile implements IoFile {
  readonly #entry: Entry;
  #closed = false;

  constructor(entry: Entry) {
    this.#entry = entry;
  }

  get path(): string {
    return this.#entry.path;
  }

  get isDirect(): boolean {
    return false;
  }

  get directFallback(): string | null {
    return null;
  }

  writeSync(data: Uint8Array, position: number): void {
    this.#open().write(data, position);
  }

  writevSync(buffers: readonly Uint8Array[], position: number): void {
    let at = position;
    for (const buffer of buffers) {
      this.#open().write(buffer, at);
      at += buffer.length;
    }
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.writeSync(data, position);
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    this.writevSync(buffers, position);
  }

  readSync(into: Uint8Array, position: number): number {
    return this.#open().read(into, position);
  }

  async read(into: Uint8Array, position: number): Promise<number> {
    return this.readSync(into, position);
  }

  sizeSync(): number {
    return this.#open().size();
  }

  setLengthSync(length: number): void {
    this.#open().setLength(length);
  }

  datasyncSync(): void {
    this.#open();
  }

  async datasync(): Promise<void> {
    this.#open();
  }

  async fsync(): Promise<void> {
    this.#open();
  }

  preallocateSync(): boolean {
    return false;
  }

  adviseSync(_offset: number, _length: number, _advice: Advice): void {}

  mapSync(offset: number, length: number): Uint8Array {
    return this.#open().map(offset, length);
  }

  closeSync(): void {
    this.#closed = true;
  }

  /** A kernel copy may read the real file only where this view still shows its bytes unchanged. */
  backingFile(position: number, length: number): IoFile | null {
    return this.#open().backingFile(position, length);
  }

  #open(): Entry {
    if (this.#closed) throw new KeelError('KEEL_CLOSED', `${this.#entry.path} is closed`, { path: this.#entry.path });
    return this.#entry;
  }
}

function overlayError(errno: string, syscall: string, path: string, code: 'KEEL_IO' | 'KEEL_NOT_FOUND' = 'KEEL_IO'): KeelError {
  return new KeelError(code, `${syscall} ${path}: ${errno} (in a read-only view)`, { path, errno, syscall });
}
