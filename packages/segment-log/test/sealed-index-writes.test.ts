import { describe, expect, it } from 'vitest';
import { SealedIndexWrites } from '../src/sealed-index-writes.js';
import type { Segment } from '../src/segment.js';

/** Only what the queue touches of a segment. */
function segment(baseOffset: number): Segment {
  return { baseOffset, indexWriting: null } as unknown as Segment;
}

/** Writes that end when the test says so, recorded in the order they started. */
class HeldWrites {
  readonly started: number[] = [];
  readonly #ends = new Map<number, { resolve(): void; reject(error: unknown): void }>();

  readonly write = (target: Segment): Promise<void> => {
    this.started.push(target.baseOffset);
    return new Promise<void>((resolve, reject) => this.#ends.set(target.baseOffset, { resolve, reject }));
  };

  end(baseOffset: number): void {
    this.#ends.get(baseOffset)?.resolve();
  }

  fail(baseOffset: number, error: unknown): void {
    this.#ends.get(baseOffset)?.reject(error);
  }
}

function queue(): { writes: SealedIndexWrites; held: HeldWrites; failures: unknown[]; written: { count: number } } {
  const failures: unknown[] = [];
  const written = { count: 0 };
  const writes = new SealedIndexWrites({ onFailure: (error) => failures.push(error), onWritten: () => written.count++ });
  return { writes, held: new HeldWrites(), failures, written };
}

describe('sealed index writes', () => {
  it('run one at a time, in the order the segments were sealed, each segment holding its write from the moment it is queued', async () => {
    const { writes, held, written } = queue();
    const segments = [segment(0), segment(3), segment(6)];
    for (const sealed of segments) writes.start(sealed, held.write);
    expect(held.started).toEqual([0]);
    expect(segments.every((sealed) => sealed.indexWriting !== null)).toBe(true);
    expect(writes.busy).toBe(true);
    held.end(0);
    await segments[0]?.indexWriting;
    expect(held.started).toEqual([0, 3]);
    expect(segments[0]?.indexWriting).toBeNull();
    held.end(3);
    await segments[1]?.indexWriting;
    held.end(6);
    await writes.settle();
    expect(held.started).toEqual([0, 3, 6]);
    expect(written.count).toBe(3);
    expect(writes.busy).toBe(false);
  });

  it('drop takes the writes not started yet of the given segments, never the running one', async () => {
    const { writes, held } = queue();
    const segments = [segment(0), segment(3), segment(6), segment(9)];
    for (const sealed of segments) writes.start(sealed, held.write);
    writes.drop(segments.slice(0, 3));
    expect(segments.map((sealed) => sealed.indexWriting === null)).toEqual([false, true, true, false]);
    held.end(0);
    await segments[0]?.indexWriting;
    held.end(9);
    await writes.settle();
    expect(held.started).toEqual([0, 9]);
  });

  it('settle also waits for the writes queued while it waits: a backup plans its copy right after', async () => {
    const { writes, held } = queue();
    const first = segment(0);
    const later = segment(3);
    writes.start(first, held.write);
    let settled = false;
    const settling = writes.settle().then(() => {
      settled = true;
    });
    // A flush seals another segment while settle waits for the first write.
    writes.start(later, held.write);
    held.end(0);
    await first.indexWriting;
    // Every promise reaction the first write's end set off has run by the next turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.started).toEqual([0, 3]);
    expect(settled).toBe(false);
    held.end(3);
    await settling;
    expect(writes.busy).toBe(false);
  });

  it('a failure is reported at once and kept: the writes queued behind it never run, and settle and throwIfFailed throw it', async () => {
    const { writes, held, failures } = queue();
    const segments = [segment(0), segment(3)];
    for (const sealed of segments) writes.start(sealed, held.write);
    const failure = new Error('EIO');
    held.fail(0, failure);
    await expect(segments[0]?.indexWriting).rejects.toBe(failure);
    expect(failures).toEqual([failure]);
    await expect(segments[1]?.indexWriting).rejects.toBe(failure);
    await expect(writes.settle()).rejects.toBe(failure);
    expect(() => writes.throwIfFailed()).toThrow(failure);
    expect(held.started).toEqual([0]);
    // Kept on the segments: retention must not remove the files of a write that failed.
    expect(segments.every((sealed) => sealed.indexWriting !== null)).toBe(true);
  });
});
