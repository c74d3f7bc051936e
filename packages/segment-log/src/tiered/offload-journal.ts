import { badArgument, type Io } from '@keel/core';
import { Journal } from '@keel/journal';

import { decodeOffloadEvent, encodeOffloadEvent, type OffloadEvent } from './offload-event.js';
import { OffloadState, type RemoteCopy } from './offload-state.js';

export interface OffloadJournalOptions {
  /** The file system (default: the native Io). */
  io?: Io;
  /** Replay without changing the file or taking its lock (a read-only log beside a live writer); record() is refused. */
  readOnly?: boolean;
}

/**
 * The durable record of what is in the remote store (KIP-405's remote log metadata
 * manager, kept in a keel journal). `record(event)` resolves only once the event is
 * durable, and the caller acts on it only after that: a copy's objects are put after its
 * copy-started is durable, and the segment counts as offloaded only after copy-finished
 * is. Open replays every event into an `OffloadState`; an event that cannot follow the
 * ones before it is KEEL_CORRUPT, and the journal's own recovery (a torn tail is cut,
 * damage before valid frames refused) decides what counts as written.
 */
export class OffloadJournal {
  readonly #journal: Journal;
  readonly #state: OffloadState;
  #recording: Promise<void> = Promise.resolve();
  #version = 0;

  private constructor(journal: Journal, state: OffloadState) {
    this.#journal = journal;
    this.#state = state;
  }

  static async open(path: string, options: OffloadJournalOptions = {}): Promise<OffloadJournal> {
    const journal = await Journal.open(path, {
      durability: { mode: 'explicit' },
      readOnly: options.readOnly === true,
      ...(options.io === undefined ? {} : { io: options.io }),
    });
    try {
      const state = new OffloadState();
      let offset = 0;
      for (const { lsn, payload } of journal.records({ from: 0 })) {
        const where = { path, offset };
        state.apply(decodeOffloadEvent(payload, where), where);
        offset = lsn;
      }
      return new OffloadJournal(journal, state);
    } catch (error) {
      await journal.close().catch(() => {});
      throw error;
    }
  }

  get path(): string {
    return this.#journal.path;
  }

  /** Changes with every event recorded: what was derived from the state before is stale. */
  get version(): number {
    return this.#version;
  }

  /** Every copy not fully deleted. */
  copies(): RemoteCopy[] {
    return this.#state.copies();
  }

  finishedCopy(baseOffset: number): RemoteCopy | undefined {
    const copy = this.#state.finishedCopy(baseOffset);
    return copy === undefined ? undefined : { ...copy };
  }

  /** Copies left half done by a crash or a failure: they need their objects deleted. */
  unfinished(): RemoteCopy[] {
    return this.#state.unfinished();
  }

  /**
   * Appends `event` and makes it durable, then applies it. Events are recorded one at a
   * time in call order; one that cannot follow the state is KEEL_BAD_ARGUMENT and nothing
   * is written. A failed write or sync poisons the journal (KEEL_POISONED from then on).
   */
  record(event: OffloadEvent): Promise<void> {
    return this.recordAll([event]);
  }

  /**
   * Appends `events`, in order, under one sync, then applies them (KIP-405 implementers
   * batch their metadata writes the same way). Either every event can follow the state,
   * each after the ones before it, or none is written (KEEL_BAD_ARGUMENT). A crash during
   * the sync leaves some prefix of them durable, each a valid state: every event is acted
   * on only after this resolves.
   */
  recordAll(events: readonly OffloadEvent[]): Promise<void> {
    const recorded = this.#recording.then(async () => {
      const after = this.#state.clone();
      for (const event of events) {
        const refusal = after.refusal(event);
        if (refusal !== undefined) throw badArgument(`${event.type} of copy ${event.copyId} refused: ${refusal}`);
        after.apply(event);
      }
      const payloads = events.map(encodeOffloadEvent);
      for (const payload of payloads) this.#journal.append(payload);
      await this.#journal.sync();
      for (const event of events) this.#state.apply(event);
      this.#version++;
    });
    this.#recording = recorded.catch(() => {});
    return recorded;
  }

  close(): Promise<void> {
    return this.#journal.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
