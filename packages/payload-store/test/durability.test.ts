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
  it('one sync covers every segment with unsynced bytes, then the directory', async () => {
    const { io, synced, mark } = recordingIo();
    await using store = await PayloadStore.open(tempDir(), { io, segmentBytes: 64, durability: { mode: 'explicit' } });
    mark();
    store.appendBatch([bytes('a'.repeat(30)), bytes('b'.repeat(30)), bytes('c'.repeat(30))]);
    expect(store.segments()).toHaveLength(3);
    await store.sync();
    expect(synced().slice(0, 3).sort()).toEqual(['0000000001.seg', '0000000002.seg', '0000000003.seg']);
    expect(synced().slice(3)).toEqual(['<dir>']);
  });

  it('a seal with nothing appended after it still makes the new segment durable on sync', async () => {
    const { io, synced, mark } = recordingIo();
    await using store = await PayloadStore.open(tempDir(), { io, durability: { mode: 'explicit' } });
    mark();
    store.seal();
    await store.sync();
    expect(synced()).toEqual(['0000000002.seg', '<dir>']);
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
});
