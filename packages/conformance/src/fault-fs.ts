import { ioError, type Io, type IoFile, type IoOpenOptions, type IoStat } from '@keel/core';
import { writeAt, setLength, applyOperations, copyBytes, storedOperations } from './file-image.js';
import { Random } from './random.js';
import { FaultFsDirectoryHandle } from './fault-fs-directory.js';
import { FaultFsFile } from './fault-fs-file.js';
import {
  cloneState,
  currentFiles,
  emptyDirectory,
  emptyState,
  normalizePath,
  splitPath,
  type DirectoryNode,
  type FileNode,
  type FsState,
} from './fs-state.js';
import { applyEntryOperationsTo } from './entry-operations.js';
import { materialiseCrash, pendingEntryOperations, type CrashPlan, type CrashEffects } from './crash.js';

/** The classes of operation an injected error can target. */
export type IoOperationClass = 'write' | 'sync' | 'read' | 'open';

/**
 * What an injection counts: one class of operation, or `mutation` — every operation that
 * changes the disk (write, set-length, datasync, fsync, syncDir, rename, remove, mkdir,
 * an open that creates), as SQLite's I/O-error-at-every-index tests count them.
 */
export type InjectionTarget = IoOperationClass | 'mutation';

/** The class of an operation an injection failed: a directory entry operation (rename, remove, mkdir) is `entry`. */
export type FailedOperationClass = IoOperationClass | 'entry';

/** An error on the `nth` operation of a class, counted from when it is armed (1-based). */
export interface Injection {
  operation: InjectionTarget;
  nth: number;
  errno: 'EIO' | 'ENOSPC';
  /** For writes: persist the first half of the data, then fail (a short write). */
  short?: boolean;
  /** Keep failing every later operation of the class (a dead disk), not just the nth. */
  persistent?: boolean;
}

/**
 * The fate of the `nth` write (pwrite) counted from when it is armed: it succeeds, and a
 * sync of it succeeds, but the disk stores it elsewhere in its file (`misplaced`: the
 * place it was meant for keeps its old bytes, and the bytes at another offset, chosen
 * from `seed`, are overwritten) or nowhere (`lost`). Reads see it where it was meant to
 * go until a crash shows what the disk holds (TigerBeetle's misdirected and lost writes).
 */
export interface WriteFate {
  kind: 'lost' | 'misplaced';
  nth: number;
  seed: number;
}

export interface CrashResult {
  fs: FaultFs;
  effects: CrashEffects;
}

/**
 * An `Io` that keeps, per file, the durable bytes and the writes since the last sync, and
 * per directory the durable entries and the entry operations since the last syncDir. It
 * can materialise any state a crash could leave (see `crash`), inject errors on the nth
 * operation, freeze itself at the nth mutating operation (a crash point inside a
 * protocol), and hold syncs pending so that a crash can land while writers wait.
 */
export class FaultFs implements Io {
  #state: FsState;
  readonly #locks = new Map<number, FaultFsFile>();
  /** Directories locked through a read-only open of the directory itself. */
  readonly #directoryLocks = new Map<string, FaultFsDirectoryHandle>();
  #injection: Injection | null = null;
  #injectionCount = 0;
  #injectionsFired = 0;
  readonly #failedClasses: FailedOperationClass[] = [];
  #crashAtNextSync = false;
  #writeFate: WriteFate | null = null;
  #writesCounted = 0;
  #writeFatesMet = 0;
  #mutations = 0;
  #crashAt: number | null = null;
  #frozen: FsState | null = null;
  #holding = false;
  readonly #held: Array<() => void> = [];

  constructor(state: FsState = emptyState()) {
    this.#state = state;
  }

  /** Mutating operations performed so far (writes, syncs, creates, renames, removes). */
  get mutations(): number {
    return this.#mutations;
  }

  /** True once a crash point armed with `crashAtMutation` was reached. */
  get frozen(): boolean {
    return this.#frozen !== null;
  }

  /** Directory entry operations not yet made durable by a syncDir (at the frozen crash point, if any). */
  get pendingEntryOperations(): number {
    return pendingEntryOperations(this.#frozen ?? this.#state);
  }

  /** How many operations failed because of an injection. */
  get injectionsFired(): number {
    return this.#injectionsFired;
  }

  /** Operations the armed injection has counted so far (how many it could have failed). */
  get injectionCount(): number {
    return this.#injectionCount;
  }

  /** The class of each operation an injection failed, in order (index i: the (i+1)-th failure). */
  get failedClasses(): readonly FailedOperationClass[] {
    return this.#failedClasses;
  }

  /** Writes counted since a write fate was armed. */
  get writesCounted(): number {
    return this.#writesCounted;
  }

  /** Writes that met their fate (were lost or misplaced). */
  get writeFatesMet(): number {
    return this.#writeFatesMet;
  }

  /** Arms (or, with null, disarms) the fate of one write to come. */
  armWriteFate(fate: WriteFate | null): void {
    this.#writeFate = fate;
    this.#writesCounted = 0;
  }

  get heldSyncs(): number {
    return this.#held.length;
  }

  inject(injection: Injection | null): void {
    this.#injection = injection;
    this.#injectionCount = 0;
  }

  /** Freezes the disk just before the `count`-th mutating operation from now. */
  crashAtMutation(count: number): void {
    this.#crashAt = this.#mutations + count;
  }

  /** From now on syncs do not complete (nor take effect) until released. */
  holdSyncs(): void {
    this.#holding = true;
  }

  /** Completes the oldest `count` held syncs, in order; stops holding when all are released. */
  releaseSyncs(count = Number.POSITIVE_INFINITY): void {
    const release = this.#held.splice(0, Math.min(count, this.#held.length));
    if (count === Number.POSITIVE_INFINITY) this.#holding = false;
    for (const complete of release) complete();
  }

  /**
   * The disk after the process dies (SIGKILL, OOM) but the machine does not, now or at
   * the frozen crash point: the page cache keeps everything written, durable or not, as
   * it was (a later power cut still loses what was never synced), and no handle or lock
   * of the dead process survives.
   */
  afterProcessCrash(): FaultFs {
    return new FaultFs(cloneState(this.#frozen ?? this.#state));
  }

  /** Freezes the disk just before the next sync (a datasync, fsync or directory sync): a crash inside a sync, after its writes. */
  crashAtNextSync(): void {
    this.#crashAtNextSync = true;
  }

  /** The state a crash now (or at the frozen crash point) leaves behind, as a fresh FaultFs. */
  crash(plan: CrashPlan): CrashResult {
    const { state, effects } = materialiseCrash(this.#frozen ?? this.#state, plan);
    return { fs: new FaultFs(state), effects };
  }

  /** Path → bytes a read sees now (the frozen state after a crash point). */
  files(): Map<string, Uint8Array> {
    return currentFiles(this.#frozen ?? this.#state);
  }

  /** A copy of this disk as it is now, durable and pending alike. */
  clone(): FaultFs {
    return new FaultFs(cloneState(this.#state));
  }

  // ---- Io ----

  open(path: string, options: IoOpenOptions = {}): IoFile {
    const normal = normalizePath(path);
    const { dir, name } = splitPath(normal);
    const create = options.create === true || options.createNew === true;
    if (this.#state.directories.has(normal) && !create && options.write !== true && options.truncate !== true) return this.#openDirectory(normal, options);
    const directory = this.#directory(dir, 'open', normal);
    const existing = directory.current.get(name);
    const mutating = (existing === undefined && create) || options.truncate === true;
    this.begin('open', mutating, 'open', normal);
    if (existing !== undefined && options.createNew) throw ioError('EEXIST', 'open', normal);
    if (existing === undefined && !create) throw ioError('ENOENT', 'open', normal);
    if (this.#state.directories.has(normal)) throw ioError('EISDIR', 'open', normal);
    const node = existing === undefined ? this.#createFile(dir, directory, name) : this.node(existing);
    if (options.lock) {
      const holder = this.#locks.get(node.id);
      if (holder !== undefined && !holder.closed) throw ioError('EBUSY', 'flock', normal);
    }
    const writable = options.write === true || create || options.truncate === true;
    const file = new FaultFsFile(this, normal, node.id, writable, options.direct === true);
    if (options.lock) this.#locks.set(node.id, file);
    if (options.truncate && node.current.length > 0) this.setLength(node, 0);
    return file;
  }

  stat(path: string): IoStat | null {
    const normal = normalizePath(path);
    this.#assertAlive('stat', normal);
    if (this.#state.directories.has(normal)) return { size: 0, isFile: false, isDirectory: true };
    const { dir, name } = splitPath(normal);
    const id = this.#state.directories.get(dir)?.current.get(name);
    if (id === undefined) return null;
    return { size: this.node(id).current.length, isFile: true, isDirectory: false };
  }

  list(dir: string): string[] {
    const normal = normalizePath(dir);
    const directory = this.#directory(normal, 'scandir', normal);
    this.#assertAlive('scandir', normal);
    const names = new Set(directory.current.keys());
    for (const path of this.#state.directories.keys()) {
      if (path !== normal && splitPath(path).dir === normal) names.add(splitPath(path).name);
    }
    return [...names].sort();
  }

  mkdir(dir: string): void {
    const normal = normalizePath(dir);
    if (this.#state.directories.has(normal)) return;
    this.begin(null, true, 'mkdir', normal);
    const { dir: parent, name } = splitPath(normal);
    if (parent !== normal) this.mkdir(parent);
    const parentDirectory = this.#state.directories.get(parent);
    if (parentDirectory?.current.has(name)) throw ioError('EEXIST', 'mkdir', normal);
    // Like a create, the new directory's entry is durable only once its parent is synced.
    parentDirectory?.pending.push({ kind: 'mkdir', sequence: this.#sequence(), name });
    this.#state.directories.set(normal, emptyDirectory());
  }

  remove(path: string): void {
    const normal = normalizePath(path);
    const { dir, name } = splitPath(normal);
    const directory = this.#directory(dir, 'unlink', normal);
    this.begin(null, true, 'unlink', normal);
    if (!directory.current.has(name)) {
      if (this.#state.directories.has(normal)) return this.#removeDirectory(normal);
      throw ioError('ENOENT', 'unlink', normal);
    }
    directory.current.delete(name);
    directory.pending.push({ kind: 'unlink', sequence: this.#sequence(), name });
  }

  rename(from: string, to: string): void {
    const source = splitPath(normalizePath(from));
    const target = splitPath(normalizePath(to));
    const sourceDirectory = this.#directory(source.dir, 'rename', from);
    const targetDirectory = this.#directory(target.dir, 'rename', to);
    this.begin(null, true, 'rename', normalizePath(from));
    const node = sourceDirectory.current.get(source.name);
    if (node === undefined && this.#state.directories.has(normalizePath(from))) return this.#renameDirectory(normalizePath(from), normalizePath(to));
    if (node === undefined) throw ioError('ENOENT', 'rename', normalizePath(from));
    if (source.dir === target.dir && source.name === target.name) return;
    sourceDirectory.current.delete(source.name);
    targetDirectory.current.set(target.name, node);
    if (source.dir === target.dir) {
      sourceDirectory.pending.push({ kind: 'rename', sequence: this.#sequence(), from: source.name, to: target.name, node });
    } else {
      sourceDirectory.pending.push({ kind: 'unlink', sequence: this.#sequence(), name: source.name });
      targetDirectory.pending.push({ kind: 'link', sequence: this.#sequence(), name: target.name, node });
    }
  }

  /**
   * The rename at once (an entry operation like any other, lost in a crash until the
   * directory is synced), then the sync of the target's directory and of the source's when
   * another: the order the native call keeps on the threadpool.
   */
  async renameDurable(from: string, to: string): Promise<void> {
    this.rename(from, to);
    const target = splitPath(normalizePath(to)).dir;
    const source = splitPath(normalizePath(from)).dir;
    await this.syncDir(target);
    if (source !== target) await this.syncDir(source);
  }

  syncDir(dir: string): Promise<void> {
    const normal = normalizePath(dir);
    try {
      const directory = this.#directory(normal, 'fsync', normal);
      this.begin('sync', true, 'fsync', normal);
      const through = this.#state.nextSequence;
      return this.settleSync(() => this.#makeEntriesDurable(directory, through));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  syncDirSync(dir: string): void {
    const normal = normalizePath(dir);
    const directory = this.#directory(normal, 'fsync', normal);
    this.begin('sync', true, 'fsync', normal);
    this.#makeEntriesDurable(directory, this.#state.nextSequence);
  }

  // ---- used by FaultFsFile ----

  node(id: number): FileNode {
    const node = this.#state.files.get(id);
    if (node === undefined) throw new Error(`FaultFs: no file node ${id}`);
    return node;
  }

  /**
   * Every operation starts here: a frozen disk refuses everything (the process is gone),
   * a crash point freezes it, an armed injection throws. Returns the injection that fired
   * when the caller should act it out (a short write) instead of throwing at once.
   */
  begin(operation: IoOperationClass | null, mutating: boolean, syscall: string, path: string): Injection | null {
    this.#assertAlive(syscall, path);
    if (mutating) {
      this.#mutations++;
      const atSync = this.#crashAtNextSync && operation === 'sync';
      if ((this.#crashAt !== null && this.#mutations >= this.#crashAt) || atSync) {
        this.#frozen = cloneState(this.#state);
        this.#crashAt = null;
        this.#crashAtNextSync = false;
        this.#assertAlive(syscall, path);
      }
    }
    const injection = this.#injection;
    if (injection === null) return null;
    const counted = injection.operation === 'mutation' ? mutating : operation === injection.operation;
    if (!counted) return null;
    this.#injectionCount++;
    const hit = this.#injectionCount === injection.nth || (injection.persistent === true && this.#injectionCount > injection.nth);
    if (!hit) return null;
    this.#injectionsFired++;
    this.#failedClasses.push(operation ?? 'entry');
    if (injection.short && operation === 'write') return injection;
    throw ioError(injection.errno, syscall, path, `${injection.errno}: injected failure of ${syscall} '${path}'`);
  }

  write(node: FileNode, position: number, data: Uint8Array): void {
    const landsAt = this.#fateOf(node, position, data.length);
    node.current = writeAt(node.current, position, data);
    const operation = { kind: 'write' as const, sequence: this.#sequence(), position, data: copyBytes(data) };
    node.pending.push(landsAt === undefined ? operation : { ...operation, landsAt });
  }

  /** Where the disk stores this write: undefined where it was meant to go, else where its armed fate puts it. */
  #fateOf(node: FileNode, position: number, length: number): number | null | undefined {
    const fate = this.#writeFate;
    if (fate === null || length === 0 || ++this.#writesCounted !== fate.nth) return undefined;
    this.#writeFatesMet++;
    if (fate.kind === 'lost') return null;
    // Another offset inside what the file holds (or just past it, in a file too short for two places).
    const room = Math.max(node.current.length, position + length) - length;
    const elsewhere = room <= 0 ? position + length : new Random(fate.seed).below(room);
    return elsewhere === position ? position + length : elsewhere;
  }

  setLength(node: FileNode, length: number): void {
    node.current = setLength(node.current, length);
    node.pending.push({ kind: 'set-length', sequence: this.#sequence(), length });
  }

  nextSequence(): number {
    return this.#state.nextSequence;
  }

  /** Makes the file's operations before `through` durable. */
  makeDurable(node: FileNode, through: number): void {
    const covered = node.pending.filter((operation) => operation.sequence < through);
    node.durable = applyOperations(node.durable, storedOperations(covered));
    node.pending = node.pending.filter((operation) => operation.sequence >= through);
  }

  /**
   * A failed fsync: the kernel drops the dirty pages (XFS invalidates them; ext4 marks them
   * clean and they are gone at the next eviction), so they never reach the disk and reads
   * see the old bytes again. A retried fsync then "succeeds" with nothing to do
   * (PostgreSQL's fsyncgate).
   */
  dropUnsynced(node: FileNode, through: number): void {
    node.pending = node.pending.filter((operation) => operation.sequence >= through);
    node.current = applyOperations(node.durable, node.pending);
  }

  /** Resolves on a microtask, or when released while syncs are held; the effect runs then. */
  settleSync(effect: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const complete = (): void => {
        if (this.#frozen !== null) {
          reject(ioError('EIO', 'fsync', '(crashed)', 'FaultFs crashed before this sync completed'));
          return;
        }
        effect();
        resolve();
      };
      if (this.#holding) this.#held.push(complete);
      else queueMicrotask(complete);
    });
  }

  /** A directory's own descriptor: it can hold a lock, as flock on a directory does. */
  #openDirectory(path: string, options: IoOpenOptions): IoFile {
    this.begin('open', false, 'open', path);
    const holder = this.#directoryLocks.get(path);
    if (options.lock && holder !== undefined && !holder.closed) throw ioError('EBUSY', 'flock', path);
    const handle: FaultFsDirectoryHandle = new FaultFsDirectoryHandle(path, () => {
      if (this.#directoryLocks.get(path) === handle) this.#directoryLocks.delete(path);
    });
    if (options.lock) this.#directoryLocks.set(path, handle);
    return handle;
  }

  releaseLock(id: number, file: FaultFsFile): void {
    if (this.#locks.get(id) === file) this.#locks.delete(id);
  }

  #assertAlive(syscall: string, path: string): void {
    if (this.#frozen !== null) throw ioError('EIO', syscall, path, 'FaultFs crashed here: the process is gone');
  }

  #sequence(): number {
    return this.#state.nextSequence++;
  }

  #directory(dir: string, syscall: string, path: string): DirectoryNode {
    const directory = this.#state.directories.get(dir);
    if (directory === undefined) throw ioError('ENOENT', syscall, path);
    return directory;
  }

  #createFile(dir: string, directory: DirectoryNode, name: string): FileNode {
    const node: FileNode = { id: this.#state.nextNode++, durable: new Uint8Array(0), current: new Uint8Array(0), pending: [] };
    this.#state.files.set(node.id, node);
    directory.current.set(name, node.id);
    directory.pending.push({ kind: 'link', sequence: this.#sequence(), name, node: node.id });
    void dir;
    return node;
  }

  /**
   * Renames a directory that holds files only (what a backup does with its finished copy).
   * The parent records it like a file rename: a crash before the parent is synced may
   * leave the directory under its old name.
   */
  #renameDirectory(from: string, to: string): void {
    const source = splitPath(from);
    const target = splitPath(to);
    const directory = this.#state.directories.get(from) as DirectoryNode;
    const hasChildren = [...this.#state.directories.keys()].some((other) => other !== from && splitPath(other).dir === from);
    if (hasChildren || source.dir !== target.dir) throw ioError('EXDEV', 'rename', from, `FaultFs renames only directories of files within one parent: ${from} → ${to}`);
    if (this.#state.directories.has(to) || this.#directory(target.dir, 'rename', to).current.has(target.name)) throw ioError('EEXIST', 'rename', to);
    this.#state.directories.delete(from);
    this.#state.directories.set(to, directory);
    this.#directory(source.dir, 'rename', from).pending.push({ kind: 'rename-dir', sequence: this.#sequence(), from: source.name, to: target.name });
  }

  /**
   * Removes an empty directory. Like an unlink, the removal is durable only once the
   * parent is synced: until then a crash can bring the directory back (`removedDirectories`).
   */
  #removeDirectory(path: string): void {
    const directory = this.#state.directories.get(path);
    const hasChildren = [...this.#state.directories.keys()].some((other) => other !== path && splitPath(other).dir === path);
    if (directory === undefined || directory.current.size > 0 || hasChildren) throw ioError('ENOTEMPTY', 'rmdir', path);
    const { dir: parent, name } = splitPath(path);
    const sequence = this.#sequence();
    this.#state.directories.get(parent)?.pending.push({ kind: 'rmdir', sequence, name });
    this.#state.directories.delete(path);
    this.#state.removedDirectories.set(sequence, { path, node: directory });
  }

  #makeEntriesDurable(directory: DirectoryNode, through: number): void {
    const covered = directory.pending.filter((operation) => operation.sequence < through);
    directory.pending = directory.pending.filter((operation) => operation.sequence >= through);
    applyEntryOperationsTo(directory.durable, covered);
    // A removal made durable: no crash can bring that directory back.
    for (const operation of covered) if (operation.kind === 'rmdir') this.#state.removedDirectories.delete(operation.sequence);
  }
}

