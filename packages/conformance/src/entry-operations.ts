import type { EntryOperation } from './fs-state.js';

/** Replays directory entry operations onto a name → node map, in order. */
export function applyEntryOperationsTo(entries: Map<string, number>, operations: readonly EntryOperation[]): void {
  for (const operation of operations) {
    if (operation.kind === 'link') entries.set(operation.name, operation.node);
    else if (operation.kind === 'unlink') entries.delete(operation.name);
    else if (operation.kind === 'mkdir' || operation.kind === 'rmdir' || operation.kind === 'rename-dir') continue; // directories are kept by path, not by entry
    else {
      entries.delete(operation.from);
      entries.set(operation.to, operation.node);
    }
  }
}
