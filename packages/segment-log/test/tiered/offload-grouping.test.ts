// Offload events grouped under one journal sync: a backlog of copies costs one sync per
// segment (a copy's finish and the next one's start together), and a crash anywhere in a
// grouped write leaves a prefix of the group, which replays to a valid state.
import { FaultFs } from '@keel/conformance';
import { nativeIo, type Io, type IoFile } from '@keel/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import type { CopiedFiles, OffloadEvent } from '../../src/tiered/offload-event.js';
import { OffloadJournal } from '../../src/tiered/offload-journal.js';
import { OffloadState } from '../../src/tiered/offload-state.js';
import { remoteKey } from '../../src/tiered/remote-keys.js';
import { SegmentUploader } from '../../src/tiered/segment-uploader.js';
import { tempDir } from '../helpers.js';
import { MemoryRemoteStore } from '../support/memory-remote-store.js';
import { sealedSegments } from '../support/sealed-segments.js';

const FILES: CopiedFiles = { log: { bytes: 100, checksum: 1 }, index: { bytes: 8, checksum: 2 }, timeindex: { bytes: 12, checksum: 3 } };
const A = '0123456789abcdef';
const B = 'fedcba9876543210';
const C = '00112233445566ff';

/** The native Io, counting the syncs of the files it opens. */
function countingIo(): { io: Io; syncs: () => number } {
  let syncs = 0;
  const countSyncs = (file: IoFile): IoFile => new Proxy(file, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'datasync' || property === 'fsync' || property === 'datasyncSync') {
        return (...args: unknown[]) => {
          syncs++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const io = new Proxy(nativeIo, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'open') return (...args: Parameters<Io['open']>) => countSyncs(target.open(...args));
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { io, syncs: () => syncs };
}

describe('grouped offload events', () => {
  it('a backlog of copies costs one journal sync per segment, and each copy starts durably before its first put', async () => {
    const { dir, segments } = await sealedSegments(5, 200);
    const { io, syncs } = countingIo();
    const journalPath = join(dir, 'offload.journal');
    const journal = await OffloadJournal.open(journalPath, { io });
    const opened = syncs();
    const store = new MemoryRemoteStore();
    const startedBeforePut: boolean[] = [];
    store.before = (call, key) => {
      // The first object of each copy: its copy-started must already be in the journal.
      if (call === 'put' && key.endsWith('.log')) startedBeforePut.push(journal.copies().some((copy) => key.includes(copy.copyId) && copy.state === 'copying'));
    };
    const uploader = new SegmentUploader({ store, journal });
    for (const segment of segments) uploader.enqueue(segment);
    await uploader.idle();
    expect(uploader.stats()).toMatchObject({ copied: 5, queued: 0 });
    expect(startedBeforePut).toEqual([true, true, true, true, true]);
    // copy-started of the first; then each finish shares its sync with the next start.
    expect(syncs() - opened).toBe(5 + 1);
    // No put vouched for a key it had used before (the store throws on that), and each copy's objects are there.
    expect(store.objects.size).toBe(5 * 2);
    // Each copy's .log object holds its own files' bytes (the uploader reads every segment into the same buffer).
    for (const segment of segments) {
      const copy = journal.finishedCopy(segment.baseOffset)!;
      const files = Buffer.concat([segment.paths.log, segment.paths.offsetIndex, segment.paths.timeIndex].map((path) => readFileSync(path)));
      expect(store.objects.get(remoteKey(segment.baseOffset, copy.copyId, 'log'))?.bytes.equals(files), `segment ${segment.baseOffset}`).toBe(true);
    }
    await uploader.close();
    await journal.close();
    await using reopened = await OffloadJournal.open(journalPath);
    expect(reopened.unfinished()).toEqual([]);
    for (const segment of segments) expect(reopened.finishedCopy(segment.baseOffset)).toMatchObject({ nextOffset: segment.nextOffset });
  });

  it('a group that cannot follow is refused whole, and nothing of it is written', async () => {
    const path = join(tempDir(), 'offload.journal');
    const journal = await OffloadJournal.open(path);
    await journal.record({ type: 'copy-started', baseOffset: 0, copyId: A });
    // The second event is fine alone, the third cannot follow the second.
    await expect(journal.recordAll([
      { type: 'copy-finished', baseOffset: 0, copyId: A, nextOffset: 10, maxTimestamp: 1, files: FILES, indexesInLog: false },
      { type: 'copy-started', baseOffset: 10, copyId: B },
      { type: 'copy-started', baseOffset: 20, copyId: B },
    ])).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
    expect(journal.unfinished()).toEqual([{ baseOffset: 0, copyId: A, state: 'copying' }]);
    await journal.close();
    await using reopened = await OffloadJournal.open(path);
    expect(reopened.copies()).toEqual([{ baseOffset: 0, copyId: A, state: 'copying' }]);
  });

  it('a crash inside a grouped sync leaves a prefix of the group, never a gap, and it replays', async () => {
    const group: OffloadEvent[] = [
      { type: 'copy-finished', baseOffset: 0, copyId: A, nextOffset: 10, maxTimestamp: 1, files: FILES, indexesInLog: false },
      { type: 'copy-started', baseOffset: 10, copyId: B },
      { type: 'delete-started', baseOffset: 0, copyId: A },
      { type: 'copy-started', baseOffset: 20, copyId: C },
    ];
    const fs = new FaultFs();
    fs.mkdir('/store');
    const path = '/store/remote-log-metadata';
    const journal = await OffloadJournal.open(path, { io: fs });
    await journal.record({ type: 'copy-started', baseOffset: 0, copyId: A });
    // The disk freezes at the group's first sync: every event of the group was written before it.
    fs.crashAtNextSync();
    await expect(journal.recordAll(group)).rejects.toThrow();
    await journal.close().catch(() => undefined);

    const replayed = async (disk: FaultFs): Promise<OffloadJournal> => OffloadJournal.open(path, { io: disk, readOnly: true });
    await using kept = await replayed(fs.afterProcessCrash());
    expect(kept.copies()).toEqual(stateAfter(group.length));

    const lengths = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const disk = fs.crash({ seed, data: { mode: 'byte-prefix' }, entries: 'keep-all' }).fs;
      await using recovered = await replayed(disk);
      const copies = recovered.copies();
      const prefix = [0, 1, 2, 3, 4].find((length) => JSON.stringify(stateAfter(length)) === JSON.stringify(copies));
      expect(prefix, `seed ${seed}: ${JSON.stringify(copies)}`).toBeDefined();
      lengths.add(prefix!);
    }
    // The seeds cut the group at different records, the first included.
    expect(lengths.size).toBeGreaterThan(1);

    /** The copies after copy-started of A and the first `length` events of the group. */
    function stateAfter(length: number): ReturnType<OffloadState['copies']> {
      const state = new OffloadState();
      state.apply({ type: 'copy-started', baseOffset: 0, copyId: A });
      for (const event of group.slice(0, length)) state.apply(event);
      return state.copies();
    }
  });
});
