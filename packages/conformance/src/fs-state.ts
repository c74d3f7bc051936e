import { posix } from 'node:path';
import type { PendingOperation } from './file-image.js';

/**
 * What FaultFs knows about the disk. Files are nodes (inodes) so that a rename moves a
 * node between names and an open handle keeps its node after an unlink, as on POSIX.
 */
export interface FileNode {
  readonly id: number;
  /** Bytes that survive any crash. */
  durable: Uint8Array;
  /** Bytes a read sees now (durable + pending). */
  current: Uint8Array;
  /** Writes and length changes since the last successful sync of this file, in order. */
  pending: PendingOperation[];
}

export type EntryOperation =
  | { readonly kind: 'link'; readonly sequence: number; readonly name: string; readonly node: number }
  | { readonly kind: 'unlink'; readonly sequence: number; readonly name: string }
  | { readonly kind: 'rename'; readonly sequence: number; readonly from: string; readonly to: string; readonly node: number }
  /** A subdirectory made: it survives a crash only once this directory is synced. */
  | { readonly kind: 'mkdir'; readonly sequence: number; readonly name: string }
  /** A subdirectory renamed: until this directory is synced, a crash may leave it under its old name. */
  | { readonly kind: 'rename-dir'; readonly sequence: number; readonly from: string; readonly to: string }
  /** A subdirectory removed: it is gone for good only once this directory is synced. */
  | { readonly kind: 'rmdir'; readonly sequence: number; readonly name: string };

export interface DirectoryNode {
  /** Entries (name → file node) that survive any crash. */
  durable: Map<string, number>;
  /** Entries a lookup sees now. */
  current: Map<string, number>;
  /** Entry operations since the last successful syncDir, in order. */
  pending: EntryOperation[];
}

export interface FsState {
  files: Map<number, FileNode>;
  /** Directories by normalised absolute path; a new one is durable once its parent is synced (its `mkdir` entry operation). */
  directories: Map<string, DirectoryNode>;
  /**
   * Directories removed since their parent was last synced, keyed by the sequence of
   * their `rmdir` entry operation: a crash that loses that operation brings them back,
   * with whatever of their own entries survives.
   */
  removedDirectories: Map<number, { readonly path: string; readonly node: DirectoryNode }>;
  nextNode: number;
  nextSequence: number;
}

export function emptyState(): FsState {
  const state: FsState = { files: new Map(), directories: new Map(), removedDirectories: new Map(), nextNode: 1, nextSequence: 1 };
  state.directories.set('/', emptyDirectory());
  return state;
}

export function emptyDirectory(): DirectoryNode {
  return { durable: new Map(), current: new Map(), pending: [] };
}

export function normalizePath(path: string): string {
  const absolute = path.startsWith('/') ? path : `/${path}`;
  const normal = posix.normalize(absolute);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

export function splitPath(path: string): { dir: string; name: string } {
  const normal = normalizePath(path);
  const slash = normal.lastIndexOf('/');
  return { dir: slash === 0 ? '/' : normal.slice(0, slash), name: normal.slice(slash + 1) };
}

export function joinPath(dir: string, name: string): string {
  return posix.join(dir, name);
}

/** A deep copy: the frozen state of a crash point must not change when the store runs on. */
export function cloneState(state: FsState): FsState {
  const files = new Map<number, FileNode>();
  for (const [id, node] of state.files) {
    files.set(id, { id, durable: node.durable.slice(), current: node.current.slice(), pending: [...node.pending] });
  }
  const directories = new Map<string, DirectoryNode>();
  for (const [path, directory] of state.directories) directories.set(path, cloneDirectory(directory));
  const removedDirectories = new Map<number, { path: string; node: DirectoryNode }>();
  for (const [sequence, removed] of state.removedDirectories) removedDirectories.set(sequence, { path: removed.path, node: cloneDirectory(removed.node) });
  return { files, directories, removedDirectories, nextNode: state.nextNode, nextSequence: state.nextSequence };
}

function cloneDirectory(directory: DirectoryNode): DirectoryNode {
  return { durable: new Map(directory.durable), current: new Map(directory.current), pending: [...directory.pending] };
}

/** Every file reachable by name now: path → bytes a read sees. */
export function currentFiles(state: FsState): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [dir, directory] of state.directories) {
    for (const [name, id] of directory.current) {
      const node = state.files.get(id);
      if (node) out.set(joinPath(dir, name), node.current);
    }
  }
  return out;
}
