import { describe, expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { FailingIo } from './failing-io.js';
import { bytes, tempDir } from './helpers.js';

/** The datasyncs and directory syncs an Io saw since `mark`, as file names and '<dir>'. */
function recordingIo(): { io: FailingIo; synced: () => string[]; mark: () => void } {
  const io = new FailingIo();
  let from = 0;
  return {
    io,
    mark: () => {
      from = io.log.length;
    },
    synced: () =>
      io.log
        .slice(from)
        .filter(({ operation }) => operation === 'datasync' || operation === 'sync-dir')
        .map(({ operation, path }) => (operation === 'sync-dir' ? '<dir>' : path.slice(path.lastIndexOf('/') + 1))),
  };
}

describe('durability', () => {
  it('a rotation syncs nothing on the calling thread; the flush it asks for makes the sealed segment durable, then names the new one', async () => {
    const { io } = recordingIo();
    await using store = await PayloadStore.open(`${tempDir()}/store`, { io, segmentBytes: 104, durability: { mode: 'explicit' } });
    const from = io.log.length;
    const step = (): string[] => io.log.slice(from).map(({ operation, path }) => `${operation} ${path.slice(path.lastIndexOf('/') + 1)}`);
    store.appendBatch([bytes('a'.repeat(30)), bytes('b'.repeat(30))]);
    // The first segment ends at 102 bytes (header and one frame): the new one's name says so.
    expect(step()).toEqual(['write 0000000001.seg', 'open-create 0000000002.seg.follows-0000000001-102', 'write 0000000002.seg.follows-0000000001-102', 'write 0000000002.seg.follows-0000000001-102']);
    await store.sync();
    // Both files, the directory (the new segment's entry), the rename, the directory again.
    expect(step().slice(4)).toEqual([
      'datasync 0000000001.seg',
      'datasync 0000000002.seg.follows-0000000001-102',
      'sync-dir store',
      'rename 0000000002.seg.follows-0000000001-102',
      'sync-dir store',
    ]);
    expect(store.segments().map((segment) => segment.path.slice(segment.path.lastIndexOf('/') + 1))).toEqual(['0000000001.seg', '0000000002.seg']);
  });

  it("under durability 'none' a rotation asks for a flush of its own, off the event loop, which close waits for", async () => {
    const { io, synced, mark } = recordingIo();
    const store = await PayloadStore.open(tempDir(), { io, segmentBytes: 104, durability: { mode: 'none' } });
    mark();
    store.appendBatch([bytes('a'.repeat(30)), bytes('b'.repeat(30)), bytes('c'.repeat(30))]);
    expect(store.segments()).toHaveLength(3);
    expect(synced()).toEqual([]);
    // The flush the rotations asked for: every segment with new bytes (the last payload too), then the directory.
    await store.close();
    expect(synced().sort()).toEqual(['0000000001.seg', '0000000002.seg.follows-0000000001-102', '0000000003.seg.follows-0000000002-102', '<dir>', '<dir>']);
    expect(io.log.filter(({ operation }) => operation === 'rename')).toHaveLength(2);
  });

  it('a seal with nothing appended after it still makes the new segment durable and named on sync', async () => {
    const { io, synced, mark } = recordingIo();
    await using store = await PayloadStore.open(tempDir(), { io, durability: { mode: 'explicit' } });
    mark();
    store.seal();
    await store.sync();
    expect(synced()).toEqual(['0000000002.seg.follows-0000000001-48', '<dir>', '<dir>']);
    expect(store.segments()[1]?.path.endsWith('/0000000002.seg')).toBe(true);
  });

  it('every-write flushes on its own, sharing one flush among writes of the same turn', async () => {
    const { io, synced, mark } = recordingIo();
    await using store = await PayloadStore.open(tempDir(), { io, durability: { mode: 'every-write' } });
    mark();
    for (let index = 0; index < 10; index++) store.append(bytes(`write ${index}`));
    await store.sync();
    expect(synced()).toEqual(['0000000001.seg']);
    expect(store.stats().durableBytes).toBe(store.stats().appendedBytes);
  });

  it("durability 'none' never syncs, not even on close", async () => {
    const { io, synced, mark } = recordingIo();
    const store = await PayloadStore.open(tempDir(), { io, durability: { mode: 'none' } });
    mark();
    store.append(bytes('page cache only'));
    await store.close();
    expect(synced()).toEqual([]);
  });

  it('does not roll while a sync of the active segment is in flight, and rolls at the next moment without one', async () => {
    await using store = await PayloadStore.open(tempDir(), { segmentBytes: 104, durability: { mode: 'explicit' } });
    store.append(bytes('a'.repeat(30)));
    const syncing = store.sync();
    await Promise.resolve(); // group commit starts the flush one microtask after it is asked
    // The sync may already have failed with its pages dropped: a roll now could leave a hole behind it.
    const during = store.append(bytes('b'.repeat(30)));
    expect(during.segment).toBe(1);
    await syncing;
    expect(store.append(bytes('c'.repeat(30))).segment).toBe(2);
    await store.sync();
  });

  it('open makes the store directory durable in its parent, then every append segment it found, then the directory', async () => {
    const dir = tempDir();
    {
      await using store = await PayloadStore.open(dir, { segmentBytes: 104, durability: { mode: 'none' } });
      store.appendBatch([bytes('a'.repeat(30)), bytes('b'.repeat(30))]);
    }
    const { io, synced } = recordingIo();
    await using store = await PayloadStore.open(dir, { io, durability: { mode: 'explicit' } });
    expect(synced()[0]).toBe('<dir>');
    expect(synced().slice(1, 3).sort()).toEqual(['0000000001.seg', '0000000002.seg']);
    expect(synced().slice(3)).toEqual(['<dir>']);
  });
});
