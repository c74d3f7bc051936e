import { KeelError } from '@keel/core';

import type { CopiedFiles, OffloadEvent } from './offload-event.js';

/** Where one copy of a segment stands; a copy whose delete finished is forgotten. */
export type CopyState = 'copying' | 'copied' | 'deleting';

export interface RemoteCopy {
  baseOffset: number;
  copyId: string;
  state: CopyState;
  /** Set once the copy finished. */
  nextOffset?: number;
  maxTimestamp?: number;
  files?: CopiedFiles;
  /** Set once the copy finished: its indexes are in its `.log` object (offload event version 2). */
  indexesInLog?: boolean;
}

/**
 * The offload journal replayed: every copy that is not fully deleted, by copy id. `check`
 * refuses an event that does not follow from the state (a finish without a start, a
 * second finished copy of one segment, a delete of a copy that is not there), so a
 * journal that says something impossible is KEEL_CORRUPT at open, and a caller's bug is
 * KEEL_BAD_ARGUMENT before anything is written.
 */
export class OffloadState {
  readonly #copies = new Map<string, RemoteCopy>();

  /** The reason `event` cannot follow the current state, or undefined if it can. */
  refusal(event: OffloadEvent): string | undefined {
    const copy = this.#copies.get(event.copyId);
    if (copy !== undefined && copy.baseOffset !== event.baseOffset) {
      return `copy ${event.copyId} is of the segment at ${copy.baseOffset}, not ${event.baseOffset}`;
    }
    switch (event.type) {
      case 'copy-started':
        return copy === undefined ? undefined : `copy ${event.copyId} was started before`;
      case 'copy-finished': {
        if (copy?.state !== 'copying') return `copy ${event.copyId} is ${copy?.state ?? 'not started'}, so it cannot finish`;
        const other = this.finishedCopy(event.baseOffset);
        return other === undefined ? undefined : `the segment at ${event.baseOffset} already has a finished copy, ${other.copyId}`;
      }
      case 'delete-started':
        return copy === undefined || copy.state === 'deleting' ? `copy ${event.copyId} is ${copy?.state ?? 'not there'}, so it cannot be deleted` : undefined;
      case 'delete-finished':
        return copy?.state === 'deleting' ? undefined : `copy ${event.copyId} is ${copy?.state ?? 'not there'}, not being deleted`;
    }
  }

  /** Applies `event`; throws KEEL_CORRUPT (naming `where`) if it cannot follow. */
  apply(event: OffloadEvent, where: { path: string; offset: number } | undefined = undefined): void {
    const refusal = this.refusal(event);
    if (refusal !== undefined) {
      const at = where === undefined ? '' : `${where.path}: offload event at ${where.offset}: `;
      throw new KeelError('KEEL_CORRUPT', `${at}${event.type} refused: ${refusal}`, where ?? {});
    }
    switch (event.type) {
      case 'copy-started':
        this.#copies.set(event.copyId, { baseOffset: event.baseOffset, copyId: event.copyId, state: 'copying' });
        break;
      case 'copy-finished':
        this.#copies.set(event.copyId, {
          baseOffset: event.baseOffset, copyId: event.copyId, state: 'copied', nextOffset: event.nextOffset, maxTimestamp: event.maxTimestamp, files: event.files,
          indexesInLog: event.indexesInLog,
        });
        break;
      case 'delete-started':
        this.#copies.get(event.copyId)!.state = 'deleting';
        break;
      case 'delete-finished':
        this.#copies.delete(event.copyId);
        break;
    }
  }

  /** A state of its own, equal to this one: events applied to it leave this one as it was. */
  clone(): OffloadState {
    const copy = new OffloadState();
    for (const [copyId, remote] of this.#copies) copy.#copies.set(copyId, { ...remote });
    return copy;
  }

  /** The finished copy of the segment at `baseOffset`, if it has one. */
  finishedCopy(baseOffset: number): RemoteCopy | undefined {
    for (const copy of this.#copies.values()) if (copy.baseOffset === baseOffset && copy.state === 'copied') return copy;
    return undefined;
  }

  /** Every copy not fully deleted, ordered by base offset (copies of one segment in the order they started). */
  copies(): RemoteCopy[] {
    return [...this.#copies.values()].map((copy) => ({ ...copy })).sort((a, b) => a.baseOffset - b.baseOffset);
  }

  /** Copies a crash or failure left half done: started but not finished, or deletes not finished. */
  unfinished(): RemoteCopy[] {
    return this.copies().filter((copy) => copy.state !== 'copied');
  }
}
