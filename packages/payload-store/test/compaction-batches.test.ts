import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nativeIo, type Io, type IoFile } from '@keel/core';
import { COMPACTION_BATCH_PAYLOADS_MAX, COMPACTION_READ_BYTES, COMPACTION_WRITE_BYTES } from '../src/compaction-copy.js';
import { PayloadRef, PayloadStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;

/** Payload `index` of a store: its bytes say which it is, whatever its size. */
function payloadOf(index: number, size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let at = 0; at < size; at++) payload[at] = (index * 31 + at) & 0xff;
  return payload;
}

/**
 * Sizes that make the copy cut its batches every way: by payload count (many small
 * payloads), by output bytes and by read span (large ones, and garbage between live ones).
 */
const small = fc.array(fc.integer({ min: 0, max: 64 }), { maxLength: COMPACTION_BATCH_PAYLOADS_MAX + 100 });
const large = fc.array(fc.oneof(fc.integer({ min: COMPACTION_WRITE_BYTES / 8, max: COMPACTION_WRITE_BYTES / 2 }), fc.integer({ min: COMPACTION_WRITE_BYTES, max: COMPACTION_READ_BYTES + 1 })), { maxLength: 4 });
const sizes = fc.tuple(small, large, small, large).map((parts) => parts.flat()).filter((all) => all.length > 0);

describe('compaction copies in batches', () => {
  it('moves every live payload whatever its batch, once, in append order', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.array(fc.nat(), { maxLength: COMPACTION_BATCH_PAYLOADS_MAX * 2 }), fc.integer({ min: 1, max: 4 }), async (payloadSizes, picks, segmentsWanted) => {
        const total = payloadSizes.reduce((sum, size) => sum + size + 64, 0);
        await using store = await PayloadStore.open(tempDir(), { durability: EXPLICIT, segmentBytes: Math.max(4096, Math.ceil(total / segmentsWanted)) });
        const refs = store.appendBatch(payloadSizes.map((size, index) => payloadOf(index, size)));
        // Live refs in any order, some named twice: the copy sorts and deduplicates them.
        const live = picks.map((pick) => refs[pick % refs.length] as PayloadRef);
        const plan = await store.compact(live, { seal: true });
        await plan.commit();
        const indexOf = new Map(refs.map((ref, index) => [ref, index]));
        const liveIndexes = [...new Set(live.map((ref) => indexOf.get(ref) as number))].sort((left, right) => left - right);
        expect(plan.mapping.size).toBe(liveIndexes.length);
        for (const index of liveIndexes) {
          const moved = plan.resolve(refs[index] as PayloadRef);
          expect(moved.segment).toBe(plan.output);
          // Buffer.equals: a deep equal of megabyte arrays is slow.
          expect(Buffer.from(store.read(moved)).equals(payloadOf(index, payloadSizes[index] as number))).toBe(true);
        }
        const scanned = [...store.scan()].map(({ ref }) => PayloadRef.key(ref));
        expect(scanned).toEqual(liveIndexes.map((index) => PayloadRef.key(plan.resolve(refs[index] as PayloadRef))));
      }),
      { numRuns: 25 },
    );
  });

  it('lets the event loop turn between batches even when the disk never makes it wait', async () => {
    // Every I/O call completes before its promise settles: the only turns the loop gets are
    // the ones compaction gives it.
    await using store = await PayloadStore.open(tempDir(), { durability: EXPLICIT, io: instantIo(nativeIo) });
    const payload = new Uint8Array(4096);
    const batches = 8;
    const live = store.appendBatch(Array.from({ length: batches * (COMPACTION_WRITE_BYTES / payload.length) }, () => payload));
    let turns = 0;
    let running = true;
    const ticker = (async () => {
      while (running) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turns++;
      }
    })();
    const plan = await store.compact(live, { seal: true });
    running = false;
    await ticker;
    await plan.commit();
    expect(turns).toBeGreaterThanOrEqual(batches);
  });
});

/** `io` with every asynchronous call done on the calling thread, settled before it returns. */
function instantIo(io: Io): Io {
  return {
    ...io,
    open: (path, options) => {
      const file = io.open(path, options);
      const instant: IoFile = {
        path: file.path,
        isDirect: file.isDirect,
        directFallback: file.directFallback,
        writeSync: (data, position) => file.writeSync(data, position),
        writevSync: (buffers, position) => file.writevSync(buffers, position),
        write: async (data, position) => file.writeSync(data, position),
        writev: async (buffers, position) => file.writevSync(buffers, position),
        readSync: (into, position) => file.readSync(into, position),
        read: async (into, position) => file.readSync(into, position),
        sizeSync: () => file.sizeSync(),
        setLengthSync: (length) => file.setLengthSync(length),
        datasyncSync: () => file.datasyncSync(),
        datasync: async () => file.datasyncSync(),
        fsync: async () => file.datasyncSync(),
        preallocateSync: (offset, length) => file.preallocateSync(offset, length),
        adviseSync: (offset, length, advice) => file.adviseSync(offset, length, advice),
        mapSync: (offset, length) => file.mapSync(offset, length),
        closeSync: () => file.closeSync(),
      };
      return instant;
    },
    syncDir: async (dir) => io.syncDirSync(dir),
  };
}
