import { applyOperations, sameBytes, storedOperations, type PendingOperation } from './file-image.js';
import { applyEntryOperationsTo } from './entry-operations.js';
import { emptyDirectory, joinPath, splitPath, type DirectoryNode, type EntryOperation, type FileNode, type FsState } from './fs-state.js';
import { Random } from './random.js';

/** What happens to the unsynced data of each file in a crash. */
export type DataLoss =
  | { readonly mode: 'keep-all' }
  | { readonly mode: 'lose-all' }
  /** Unsynced data kept up to a byte offset of the write stream (fault 1). */
  | { readonly mode: 'byte-prefix' }
  /** Unsynced writes from some point on present but zero- or garbage-filled (fault 2). */
  | { readonly mode: 'fill'; readonly fill: 'zero' | 'garbage' }
  /** One write torn into pieces of `granularity` bytes, any subset kept (fault 3). */
  | { readonly mode: 'torn'; readonly granularity: number }
  /** Any subset of unsynced writes kept, a later one without an earlier one (fault 4). */
  | { readonly mode: 'subset' }
  /**
   * Unsynced writes from some point on present but holding stale bytes: what a reused or
   * preallocated block held before, here the bytes at the same offsets of another file of
   * the disk (a deleted segment, an older log: whole, checksummed frames), zeros past its
   * end (fault 15).
   */
  | { readonly mode: 'stale' };

/**
 * What happens to directory entry operations since the last syncDir (fault 5). `keep`
 * names exactly which survive: bit i keeps the i-th pending operation, counted over
 * every directory in order (the exhaustive crash enumerates these).
 */
export type EntryLoss = 'keep-all' | 'lose-all' | 'subset' | { readonly keep: number };

/** Damage done to the disk after the crash state is chosen. */
export type Damage =
  /** A bit flip in old, synced data (fault 7). */
  | { readonly kind: 'bit-flip' }
  /** Bytes from elsewhere written over synced data (fault 8). */
  | { readonly kind: 'misdirect'; readonly length: number }
  /** A derived file (index, snapshot) deleted, flipped or truncated (fault 13). */
  | { readonly kind: 'derived'; readonly action: 'delete' | 'flip' | 'truncate' };

export interface CrashPlan {
  /** Drives every random choice, so the same plan gives the same disk. */
  readonly seed: number;
  readonly data: DataLoss;
  readonly entries: EntryLoss;
  readonly damage?: Damage;
  /** Which files are derived (safe to lose); damage of kind bit-flip/misdirect avoids them. */
  readonly isDerived?: (path: string) => boolean;
}

export interface CrashEffects {
  /** Some file differs from what a crash that kept everything would leave. */
  dataChanged: boolean;
  /** Some directory entry operation was lost. */
  entriesLost: boolean;
  /** The file the damage landed in, when it landed. */
  damagedPath: string | null;
  damagedOffset: number | null;
}

/** Builds the disk a crash leaves: every byte durable, nothing pending. */
export function materialiseCrash(before: FsState, plan: CrashPlan): { state: FsState; effects: CrashEffects } {
  const random = new Random(plan.seed);
  const effects: CrashEffects = { dataChanged: false, entriesLost: false, damagedPath: null, damagedOffset: null };
  const state: FsState = { files: new Map(), directories: new Map(), removedDirectories: new Map(), nextNode: before.nextNode, nextSequence: before.nextSequence };
  let counted = 0;
  const keptOperations = new Map<DirectoryNode, EntryOperation[]>();
  const lostDirectories: string[] = [];
  const lostRemovals = new Set<number>();
  /** Directories whose rename did not reach the disk: new path → the old one they keep. */
  const renamesLost = new Map<string, string>();
  // Directories removed since their parent's last sync come last, so that the choices for
  // the others (and the bits of an entry mask) do not depend on them.
  const removed = [...before.removedDirectories.entries()].sort(([, left], [, right]) => depth(left.path) - depth(right.path));
  const nodes: [string, DirectoryNode][] = [...before.directories, ...removed.map(([, { path, node }]): [string, DirectoryNode] => [path, node])];
  for (const [path, directory] of nodes) {
    const kept = chooseEntries(directory.pending, plan.entries, random, counted);
    counted += directory.pending.length;
    if (kept.length < directory.pending.length) effects.entriesLost = true;
    keptOperations.set(directory, kept);
    for (const operation of directory.pending) {
      if (kept.includes(operation)) continue;
      if (operation.kind === 'mkdir') lostDirectories.push(joinPath(path, operation.name));
      if (operation.kind === 'rmdir') lostRemovals.add(operation.sequence);
      if (operation.kind === 'rename-dir') renamesLost.set(joinPath(path, operation.to), joinPath(path, operation.from));
    }
  }
  const survives = (path: string): boolean => !lostDirectories.some((lost) => path === lost || path.startsWith(`${lost}/`));
  const materialise = (path: string, directory: DirectoryNode): void => {
    const entries = new Map(directory.durable);
    applyEntryOperationsTo(entries, keptOperations.get(directory) as EntryOperation[]);
    state.directories.set(renamesLost.get(path) ?? path, { ...emptyDirectory(), durable: entries, current: new Map(entries) });
  };
  // A directory whose creation did not reach the disk is gone, with everything in it.
  for (const [path, directory] of before.directories) if (survives(path)) materialise(path, directory);
  // A directory whose removal did not reach the disk is back (its parent first, where that was removed too).
  for (const [sequence, { path, node }] of removed) {
    if (!lostRemovals.has(sequence) || !survives(path) || state.directories.has(path) || !state.directories.has(splitPath(path).dir)) continue;
    materialise(path, node);
    effects.entriesLost = true;
  }
  for (const directory of state.directories.values()) {
    for (const id of directory.current.values()) {
      if (state.files.has(id)) continue;
      const node = before.files.get(id) as FileNode;
      const image = crashImage(node, plan.data, random, before);
      if (!sameBytes(image, applyOperations(node.durable, node.pending))) effects.dataChanged = true;
      state.files.set(id, { id, durable: image, current: image.slice(), pending: [] });
    }
  }
  if (plan.damage) applyDamage(state, before, plan, random, effects);
  return { state, effects };
}

function chooseEntries<T>(pending: readonly T[], loss: EntryLoss, random: Random, counted: number): T[] {
  if (loss === 'keep-all') return [...pending];
  if (loss === 'lose-all') return [];
  if (typeof loss === 'object') return pending.filter((_, index) => keeps(loss.keep, counted + index));
  return pending.filter(() => random.chance(0.5));
}

function crashImage(node: FileNode, loss: DataLoss, random: Random, before: FsState): Uint8Array {
  // What reaches the disk of a write whose fate it is to be lost or misplaced is not what was written.
  const pending = storedOperations(node.pending);
  switch (loss.mode) {
    case 'keep-all':
      return applyOperations(node.durable, pending);
    case 'lose-all':
      return node.durable.slice();
    case 'byte-prefix':
      return applyOperations(node.durable, bytePrefix(pending, random));
    case 'fill':
      return applyOperations(node.durable, filled(pending, loss.fill === 'garbage' && node.durable.length > 0, random));
    case 'torn':
      return applyOperations(node.durable, torn(pending, loss.granularity, random));
    case 'subset':
      return applyOperations(node.durable, pending.filter(() => random.chance(0.5)));
    case 'stale':
      return applyOperations(node.durable, stale(node, pending, before, random));
  }
}

/** From a chosen unsynced write on, each write's place holds what another file has at those offsets. */
function stale(node: FileNode, pending: readonly PendingOperation[], before: FsState, random: Random): PendingOperation[] {
  const from = random.below(pending.length + 1);
  const sources = [...before.files.values()].filter((other) => other.id !== node.id && other.durable.length > 0);
  const source = sources.length === 0 ? null : random.pick(sources).durable;
  return pending.map((operation, index) => {
    if (index < from || operation.kind !== 'write') return operation;
    const data = new Uint8Array(operation.data.length);
    if (source !== null) data.set(source.subarray(Math.min(operation.position, source.length), Math.min(operation.position + data.length, source.length)));
    return { ...operation, data };
  });
}

function bytePrefix(pending: readonly PendingOperation[], random: Random): PendingOperation[] {
  let total = 0;
  for (const operation of pending) if (operation.kind === 'write') total += operation.data.length;
  let remaining = random.between(0, total);
  const kept: PendingOperation[] = [];
  for (const operation of pending) {
    if (operation.kind === 'set-length') {
      kept.push(operation);
      continue;
    }
    if (remaining <= 0) break;
    const length = Math.min(remaining, operation.data.length);
    kept.push({ ...operation, data: operation.data.subarray(0, length) });
    remaining -= length;
    if (length < operation.data.length) break;
  }
  return kept;
}

/**
 * From a chosen write on, the file grew (its size reached the disk) but the data did not:
 * zeros (delayed allocation) or garbage (stale blocks). Garbage only lands in files that
 * already had durable bytes: a brand-new file of garbage would be a foreign file.
 */
function filled(pending: readonly PendingOperation[], garbage: boolean, random: Random): PendingOperation[] {
  const from = random.below(pending.length + 1);
  return pending.map((operation, index) => {
    if (index < from || operation.kind !== 'write') return operation;
    const data = garbage ? random.bytes(operation.data.length) : new Uint8Array(operation.data.length);
    return { ...operation, data };
  });
}

function torn(pending: readonly PendingOperation[], granularity: number, random: Random): PendingOperation[] {
  const writes = pending.flatMap((operation, index) => (operation.kind === 'write' ? [index] : []));
  if (writes.length === 0) return [...pending];
  const tornIndex = random.pick(writes);
  const kept: PendingOperation[] = pending.slice(0, tornIndex);
  const write = pending[tornIndex] as Extract<PendingOperation, { kind: 'write' }>;
  // Pieces end at absolute multiples of the granularity, as sectors and pages do.
  for (let start = write.position; start < write.position + write.data.length; ) {
    const end = Math.min(write.position + write.data.length, (Math.floor(start / granularity) + 1) * granularity);
    if (random.chance(0.5)) {
      kept.push({ ...write, position: start, data: write.data.subarray(start - write.position, end - write.position) });
    }
    start = end;
  }
  return kept;
}

function applyDamage(state: FsState, before: FsState, plan: CrashPlan, random: Random, effects: CrashEffects): void {
  const damage = plan.damage as Damage;
  const reachable = reachableFiles(state);
  const isDerived = plan.isDerived ?? (() => false);
  if (damage.kind === 'derived') {
    const targets = reachable.filter((file) => isDerived(file.path));
    if (targets.length === 0) return;
    damageDerived(state, random.pick(targets), damage.action, random, effects);
    return;
  }
  // Old, synced data: bytes that were durable before the crash and are still in the file.
  const targets = reachable.filter((file) => !isDerived(file.path) && oldBytes(before, file.node) > 0);
  if (targets.length === 0) return;
  const target = random.pick(targets);
  const limit = oldBytes(before, target.node);
  const image = target.node.durable;
  if (damage.kind === 'bit-flip') {
    const offset = random.below(limit);
    image[offset] = (image[offset] as number) ^ (1 << random.below(8));
    markDamaged(target, offset, effects);
    return;
  }
  const sources = reachable.filter((file) => !isDerived(file.path) && file.node.durable.length > 0);
  const source = random.pick(sources);
  const from = random.below(source.node.durable.length);
  const to = random.below(limit);
  const length = Math.min(damage.length, source.node.durable.length - from, limit - to);
  const bytes = source.node.durable.slice(from, from + length);
  if (sameBytes(bytes, image.subarray(to, to + length))) return;
  image.set(bytes, to);
  markDamaged(target, to, effects);
}

function damageDerived(state: FsState, target: ReachableFile, action: 'delete' | 'flip' | 'truncate', random: Random, effects: CrashEffects): void {
  const image = target.node.durable;
  if (action === 'delete' || image.length === 0) {
    const directory = state.directories.get(target.dir);
    directory?.durable.delete(target.name);
    directory?.current.delete(target.name);
    markDamaged(target, 0, effects);
    return;
  }
  if (action === 'flip') {
    const offset = random.below(image.length);
    image[offset] = (image[offset] as number) ^ (1 << random.below(8));
    markDamaged(target, offset, effects);
    return;
  }
  const length = random.below(image.length);
  target.node.durable = image.slice(0, length);
  markDamaged(target, length, effects);
}

function markDamaged(target: ReachableFile, offset: number, effects: CrashEffects): void {
  target.node.current = target.node.durable.slice();
  effects.damagedPath = target.path;
  effects.damagedOffset = offset;
}

function oldBytes(before: FsState, node: FileNode): number {
  const old = before.files.get(node.id)?.durable.length ?? 0;
  return Math.min(old, node.durable.length);
}

interface ReachableFile {
  path: string;
  dir: string;
  name: string;
  node: FileNode;
}

function reachableFiles(state: FsState): ReachableFile[] {
  const out: ReachableFile[] = [];
  for (const [dir, directory] of state.directories) {
    for (const [name, id] of directory.durable) {
      const node = state.files.get(id);
      if (node) out.push({ path: joinPath(dir, name), dir, name, node });
    }
  }
  return out.sort((left, right) => (left.path < right.path ? -1 : 1));
}

/** Bit `index` of `mask` (masks beyond 32 operations are not enumerated: bits past 52 read as 0). */
function keeps(mask: number, index: number): boolean {
  return index < 53 && Math.floor(mask / 2 ** index) % 2 === 1;
}

/** Pending directory entry operations (creates, renames, unlinks, mkdirs and rmdirs not yet synced) in a state. */
export function pendingEntryOperations(state: FsState): number {
  let count = 0;
  for (const directory of state.directories.values()) count += directory.pending.length;
  for (const { node } of state.removedDirectories.values()) count += node.pending.length;
  return count;
}

function depth(path: string): number {
  return path.split('/').length;
}
