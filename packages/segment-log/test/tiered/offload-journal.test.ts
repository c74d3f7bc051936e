import { Journal } from '@keel/journal';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  COPY_FINISHED_EVENT_BYTES, OFFLOAD_EVENT_BYTES, decodeOffloadEvent, encodeOffloadEvent, type CopiedFiles, type OffloadEvent,
} from '../../src/tiered/offload-event.js';
import { OffloadJournal } from '../../src/tiered/offload-journal.js';
import { OffloadState } from '../../src/tiered/offload-state.js';
import { tempDir } from '../helpers.js';

const FILES: CopiedFiles = {
  log: { bytes: 1_048_576, checksum: 0xdead_beef },
  index: { bytes: 80, checksum: 1 },
  timeindex: { bytes: 0xffff_ffff, checksum: 0 },
};
const A = '0123456789abcdef';
const B = 'fedcba9876543210';
const where = { path: 'offload.journal', offset: 0 };

describe('offload events', () => {
  it('round-trip every type', () => {
    const events: OffloadEvent[] = [
      { type: 'copy-started', baseOffset: 0, copyId: A },
      { type: 'copy-finished', baseOffset: 2 ** 53 - 2, copyId: A, nextOffset: 2 ** 53 - 1, maxTimestamp: -(2 ** 53 - 1), files: FILES, indexesInLog: false },
      { type: 'delete-started', baseOffset: 7, copyId: B },
      { type: 'delete-finished', baseOffset: 7, copyId: B },
      // Version 2: the indexes are in the .log object.
      { type: 'copy-finished', baseOffset: 7, copyId: B, nextOffset: 9, maxTimestamp: 5, files: { ...FILES, timeindex: { bytes: 12, checksum: 3 } }, indexesInLog: true },
    ];
    expect(events.map((event) => encodeOffloadEvent(event)[0])).toEqual([1, 1, 1, 1, 2]);
    for (const event of events) {
      const bytes = encodeOffloadEvent(event);
      expect(bytes.length).toBe(event.type === 'copy-finished' ? COPY_FINISHED_EVENT_BYTES : OFFLOAD_EVENT_BYTES);
      expect(decodeOffloadEvent(bytes, where)).toEqual(event);
    }
  });

  it('refuse a wrong version, type, length, reserved bits or an end not after the base', () => {
    const started = encodeOffloadEvent({ type: 'copy-started', baseOffset: 5, copyId: A });
    const finished = encodeOffloadEvent({ type: 'copy-finished', baseOffset: 5, copyId: A, nextOffset: 6, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    const damaged = (bytes: Buffer, change: (copy: Buffer) => void) => {
      const copy = Buffer.from(bytes);
      change(copy);
      return copy;
    };
    for (const payload of [
      damaged(started, (copy) => { copy[0] = 2; }),
      damaged(started, (copy) => { copy[1] = 0; }),
      damaged(started, (copy) => { copy[1] = 5; }),
      damaged(started, (copy) => { copy[2] = 1; }),
      started.subarray(0, OFFLOAD_EVENT_BYTES - 1),
      Buffer.concat([started, Buffer.alloc(1)]),
      finished.subarray(0, OFFLOAD_EVENT_BYTES),
      damaged(finished, (copy) => { copy.writeUInt32LE(5, 20); }),
      // Version 2 is a copy-finished's only, and its files must fit one object together.
      damaged(started, (copy) => { copy[0] = 2; }),
      damaged(finished, (copy) => {
        copy[0] = 2;
        copy.writeUInt32LE(0xffff_ffff, 36);
        copy.writeUInt32LE(1, 44);
      }),
    ]) {
      expect(() => decodeOffloadEvent(payload, where)).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', path: 'offload.journal' }));
    }
    expect(() => encodeOffloadEvent({ type: 'copy-started', baseOffset: 0, copyId: 'XYZ' })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  });
});

describe('offload state', () => {
  it('follows a copy from start to deleted, and forgets it then', () => {
    const state = new OffloadState();
    state.apply({ type: 'copy-started', baseOffset: 10, copyId: A });
    expect(state.unfinished()).toEqual([{ baseOffset: 10, copyId: A, state: 'copying' }]);
    state.apply({ type: 'copy-finished', baseOffset: 10, copyId: A, nextOffset: 20, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    expect(state.finishedCopy(10)).toMatchObject({ copyId: A, nextOffset: 20, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    expect(state.unfinished()).toEqual([]);
    state.apply({ type: 'delete-started', baseOffset: 10, copyId: A });
    expect(state.finishedCopy(10)).toBeUndefined();
    state.apply({ type: 'delete-finished', baseOffset: 10, copyId: A });
    expect(state.copies()).toEqual([]);
  });

  it('refuses events that cannot follow', () => {
    const state = new OffloadState();
    const refuse = (event: OffloadEvent) => expect(() => state.apply(event)).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT' }));
    refuse({ type: 'copy-finished', baseOffset: 10, copyId: A, nextOffset: 20, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    refuse({ type: 'delete-started', baseOffset: 10, copyId: A });
    refuse({ type: 'delete-finished', baseOffset: 10, copyId: A });
    state.apply({ type: 'copy-started', baseOffset: 10, copyId: A });
    refuse({ type: 'copy-started', baseOffset: 10, copyId: A });
    refuse({ type: 'copy-finished', baseOffset: 11, copyId: A, nextOffset: 20, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    refuse({ type: 'delete-finished', baseOffset: 10, copyId: A });
    state.apply({ type: 'copy-finished', baseOffset: 10, copyId: A, nextOffset: 20, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    // A second finished copy of one segment.
    state.apply({ type: 'copy-started', baseOffset: 10, copyId: B });
    refuse({ type: 'copy-finished', baseOffset: 10, copyId: B, nextOffset: 20, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    // An abandoned copy can be deleted before it finished.
    state.apply({ type: 'delete-started', baseOffset: 10, copyId: B });
    refuse({ type: 'delete-started', baseOffset: 10, copyId: B });
    state.apply({ type: 'delete-finished', baseOffset: 10, copyId: B });
    expect(state.copies().map((copy) => copy.copyId)).toEqual([A]);
  });
});

describe('offload journal', () => {
  it('makes each event durable and replays them on open', async () => {
    const path = join(tempDir(), 'offload.journal');
    const journal = await OffloadJournal.open(path);
    await journal.record({ type: 'copy-started', baseOffset: 0, copyId: A });
    await journal.record({ type: 'copy-finished', baseOffset: 0, copyId: A, nextOffset: 100, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    await journal.record({ type: 'copy-started', baseOffset: 100, copyId: B });
    await journal.close();

    await using reopened = await OffloadJournal.open(path);
    expect(reopened.finishedCopy(0)).toMatchObject({ copyId: A, nextOffset: 100, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false });
    expect(reopened.unfinished()).toEqual([{ baseOffset: 100, copyId: B, state: 'copying' }]);
  });

  it('refuses an event that cannot follow, and writes nothing for it', async () => {
    const path = join(tempDir(), 'offload.journal');
    const journal = await OffloadJournal.open(path);
    await expect(journal.record({ type: 'delete-finished', baseOffset: 0, copyId: A })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
    await journal.record({ type: 'copy-started', baseOffset: 0, copyId: A });
    await journal.close();
    await using reopened = await OffloadJournal.open(path);
    expect(reopened.copies()).toHaveLength(1);
  });

  it('refuses to open a journal whose events are impossible, naming where', async () => {
    const path = join(tempDir(), 'offload.journal');
    const raw = await Journal.open(path, { durability: { mode: 'explicit' } });
    raw.append(encodeOffloadEvent({ type: 'copy-started', baseOffset: 0, copyId: A }));
    raw.append(encodeOffloadEvent({ type: 'copy-finished', baseOffset: 0, copyId: B, nextOffset: 1, maxTimestamp: 1_700_000_000_000, files: FILES, indexesInLog: false }));
    await raw.close();
    await expect(OffloadJournal.open(path)).rejects.toMatchObject({ code: 'KEEL_CORRUPT', path, offset: 8 + OFFLOAD_EVENT_BYTES + 4 });
    // The refused open released its lock.
    await (await Journal.open(path)).close();
  });
});
