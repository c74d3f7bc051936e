import type { IoFile } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEALED_CHECKPOINT_SLOTS } from '../src/format.js';
import { RECORD_BYTES } from '../src/offset-record.js';
import { SealedCheckpoint } from '../src/sealed-checkpoint.js';

/**
 * A checkpoint file in memory that knows, per slot, what a crash now would leave: a slot
 * whose last write a returned datasync covered holds that write; any other may be torn.
 */
class CrashModelFile {
  readonly offsets = new Array<number>(SEALED_CHECKPOINT_SLOTS).fill(-1);
  readonly writes = new Array<number>(SEALED_CHECKPOINT_SLOTS).fill(0);
  readonly durable = new Array<number>(SEALED_CHECKPOINT_SLOTS).fill(0);
  /** The largest offset a returned datasync made durable. */
  acknowledged: number;
  readonly pending: Array<{ writes: number[]; offset: number; resolve: () => void }> = [];
  written = -1;
  /** Checked after every write, as a crash right then would find the file. */
  onWrite: () => void = () => undefined;

  constructor(initial: number) {
    this.offsets[0] = initial;
    this.acknowledged = initial;
  }

  /** The largest offset a whole slot would name after a crash now, or null. */
  surviving(): number | null {
    let best: number | null = null;
    for (let slot = 0; slot < SEALED_CHECKPOINT_SLOTS; slot++) {
      if (this.writes[slot] === this.durable[slot] && (best === null || this.offsets[slot]! > best)) best = this.offsets[slot]!;
    }
    return best;
  }

  writeSync(_data: Uint8Array, position: number): void {
    const slot = position / RECORD_BYTES;
    this.writes[slot]!++;
    this.offsets[slot] = this.written;
    this.onWrite();
  }

  datasync(): Promise<void> {
    const writes = [...this.writes];
    const offset = this.latestWritten();
    return new Promise((resolve) => this.pending.push({ writes, offset, resolve }));
  }

  datasyncSync(): void {
    this.#returned([...this.writes], this.latestWritten());
  }

  complete(index: number): void {
    const [sync] = this.pending.splice(index, 1);
    this.#returned(sync!.writes, sync!.offset);
    sync!.resolve();
  }

  latestWritten(): number {
    return Math.max(...this.offsets);
  }

  #returned(writes: number[], offset: number): void {
    for (let slot = 0; slot < SEALED_CHECKPOINT_SLOTS; slot++) this.durable[slot] = Math.max(this.durable[slot]!, writes[slot]!);
    this.acknowledged = Math.max(this.acknowledged, offset);
  }
}

type Step = { kind: 'write-then-async-sync' } | { kind: 'write-then-sync-sync' } | { kind: 'complete'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'write-then-async-sync' as const }),
  fc.constant({ kind: 'write-then-sync-sync' as const }),
  fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }),
);

describe('the sealed-offset checkpoint', () => {
  it('never overwrites its only durable slot, however synchronous syncs interleave with a flush', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const file = new CrashModelFile(100);
        const checkpoint = new SealedCheckpoint(file as unknown as IoFile, new Uint8Array(16), { offset: 100, slot: 0 });
        file.onWrite = () => expect(file.surviving() ?? -1).toBeGreaterThanOrEqual(file.acknowledged);
        const flushes: Promise<void>[] = [];
        let next = 100;
        for (const s of steps) {
          if (s.kind === 'complete') {
            if (file.pending.length > 0) file.complete(s.pick % file.pending.length);
            await Promise.resolve();
            continue;
          }
          // The store's group commit runs one flush at a time; only a syncSync() runs beside it.
          if (s.kind === 'write-then-async-sync' && file.pending.length > 0) continue;
          file.written = next += 10;
          checkpoint.write(next);
          if (s.kind === 'write-then-sync-sync') checkpoint.datasyncSync();
          else flushes.push(checkpoint.datasync());
        }
        while (file.pending.length > 0) file.complete(0);
        await Promise.all(flushes);
        expect(file.surviving()).toBe(next);
      }),
    );
  });
});
