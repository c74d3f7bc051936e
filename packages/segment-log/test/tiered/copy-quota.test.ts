// The copy quota: a token bucket over the bytes offload puts. Properties over arbitrary byte
// sequences and clock steps (never ahead of the rate, always progress, no wait when the
// bucket holds enough), an unlimited quota that never waits, an abort that ends a wait at
// once, and the uploader paying part by part as the store sends a copy (or, for a store
// that does not ask, before the manifest), never between the last put and its record.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

import { SegmentLog } from '../../src/index.js';
import { COPY_BURST_SECONDS, CopyQuota, systemClock, type QuotaClock } from '../../src/tiered/copy-quota.js';
import { OffloadJournal } from '../../src/tiered/offload-journal.js';
import { SegmentUploader } from '../../src/tiered/segment-uploader.js';
import { TokenBucket } from '../../src/tiered/token-bucket.js';
import { tempDir } from '../helpers.js';
import { MemoryRemoteStore } from '../support/memory-remote-store.js';
import { sealedSegments } from '../support/sealed-segments.js';

/** Rounding slack of the float arithmetic, in bytes. */
const SLACK_BYTES = 1e-6;
/** A copy-finished event's payload, the manifest object. */
const ENCODED_MANIFEST_BYTES = 60;

/** A clock moved only by the test; a sleep moves it forward by the wait and returns. */
function manualClock(events: string[] = []): QuotaClock & { time: number } {
  const clock = {
    time: 0,
    now: () => clock.time,
    sleep: async (ms: number, signal: AbortSignal) => {
      if (signal.aborted) throw signal.reason;
      events.push(`wait ${Math.round(ms)}`);
      clock.time += ms;
    },
  };
  return clock;
}

const reservations = fc.array(fc.record({
  bytes: fc.integer({ min: 0, max: 5_000 }),
  // The time from the previous reservation's admission (negative: made while it still waits).
  step: fc.double({ min: -2_000, max: 3_000, noNaN: true }),
}), { minLength: 1, maxLength: 60 });

describe('token bucket', () => {
  it('never admits more than the rate since creation plus the initial bytes, nor more than the burst (or one larger reservation) plus the rate over any run', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 4_000 }), fc.double({ min: 0, max: 1, noNaN: true }), reservations,
      (bytesPerSecond, burstBytes, initialShare, steps) => {
        const initialBytes = Math.floor(burstBytes * initialShare);
        const bucket = new TokenBucket(bytesPerSecond, burstBytes, 0, initialBytes);
        const rate = bytesPerSecond / 1000;
        let now = 0;
        let previousAdmission = 0;
        const admitted: { at: number; bytes: number }[] = [];
        for (const { bytes, step } of steps) {
          now = Math.max(now, previousAdmission + step);
          const wait = bucket.reserve(bytes, now);
          const at = now + wait;
          // Progress: finite, never before the one ahead of it, and no longer than its own bytes take after that one.
          expect(Number.isFinite(wait) && wait >= 0).toBe(true);
          expect(at).toBeGreaterThanOrEqual(previousAdmission - 1e-9);
          expect(at).toBeLessThanOrEqual(Math.max(now, previousAdmission) + bytes / rate + 1e-6);
          admitted.push({ at, bytes });
          previousAdmission = at;
        }
        let total = 0;
        for (const { at, bytes } of admitted) {
          total += bytes;
          expect(total).toBeLessThanOrEqual(initialBytes + rate * at + SLACK_BYTES);
        }
        for (let first = 0; first < admitted.length; first++) {
          let run = 0;
          for (let last = first; last < admitted.length; last++) {
            run += admitted[last]!.bytes;
            const bound = Math.max(burstBytes, admitted[first]!.bytes) + rate * (admitted[last]!.at - admitted[first]!.at);
            expect(run).toBeLessThanOrEqual(bound + SLACK_BYTES);
          }
        }
      },
    ));
  });

  it('admits at once a reservation the bucket holds: after a pause long enough to accrue it, up to the burst', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 4_000 }), reservations, (bytesPerSecond, burstBytes, steps) => {
      const bucket = new TokenBucket(bytesPerSecond, burstBytes, 0);
      let previousAdmission = 0;
      for (const { bytes, step } of steps) {
        const pause = Math.abs(step);
        const now = previousAdmission + pause;
        const wait = bucket.reserve(bytes, now);
        if (bytes <= burstBytes && pause * (bytesPerSecond / 1000) >= bytes) expect(wait).toBe(0);
        previousAdmission = now + wait;
      }
    }));
  });

  it('refuses a rate or burst it cannot honour (programmer errors)', () => {
    expect(() => new TokenBucket(0, 10, 0)).toThrow();
    expect(() => new TokenBucket(Number.POSITIVE_INFINITY, 10, 0)).toThrow();
    expect(() => new TokenBucket(10, 5, 0, 6)).toThrow();
    expect(() => new TokenBucket(10, 5, 0).reserve(-1, 0)).toThrow();
  });
});

describe('copy quota', () => {
  it('never waits when unlimited (absent or 0)', async () => {
    const clock: QuotaClock = { now: () => 0, sleep: () => Promise.reject(new Error('an unlimited quota waited')) };
    const signal = new AbortController().signal;
    await fc.assert(fc.asyncProperty(fc.constantFrom(undefined, 0), fc.array(fc.nat(1 << 30), { maxLength: 20 }), async (rate, sizes) => {
      const quota = new CopyQuota(rate, clock);
      expect(quota.limited).toBe(false);
      for (const bytes of sizes) await quota.acquire(bytes, signal);
    }));
  });

  it('holds bytes back at its rate, starting empty', async () => {
    const events: string[] = [];
    const quota = new CopyQuota(1000, manualClock(events));
    const signal = new AbortController().signal;
    await quota.acquire(500, signal);
    await quota.acquire(1500, signal);
    expect(events).toEqual(['wait 500', 'wait 1500']);
  });

  it('ends a wait the moment its signal aborts, with the abort reason', async () => {
    const quota = new CopyQuota(1);
    const stop = new AbortController();
    const reason = new Error('closed');
    const waiting = quota.acquire(1e9, stop.signal);
    stop.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(quota.acquire(1, stop.signal)).rejects.toBe(reason);
  });

  it('sleeps longer than one timer allows (Node fires a longer timer after a millisecond)', async () => {
    vi.useFakeTimers();
    try {
      const stop = new AbortController();
      let woke = false;
      const sleeping = systemClock.sleep(3 * 2 ** 31, stop.signal).then(() => {
        woke = true;
      });
      await vi.advanceTimersByTimeAsync(2 ** 31 + 1_000);
      expect(woke).toBe(false);
      await vi.advanceTimersByTimeAsync(2 * 2 ** 31);
      expect(woke).toBe(true);
      await sleeping;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('uploader under a copy quota', () => {
  /** A quota that counts what it was asked for. */
  class CountingQuota extends CopyQuota {
    paid = 0;
    override acquire(bytes: number, signal: AbortSignal): Promise<void> {
      this.paid += bytes;
      return super.acquire(bytes, signal);
    }
  }

  /** Records journal writes and the store's puts and sends into `events`. */
  async function recordedUploader(dir: string, store: MemoryRemoteStore, quota: CopyQuota, events: string[]) {
    const journal = await OffloadJournal.open(join(dir, `offload-${randomBytes(4).toString('hex')}.journal`));
    store.before = (call, key) => {
      if (call === 'put') events.push(`put ${key.slice(key.lastIndexOf('.') + 1)}`);
    };
    const recordAll = journal.recordAll.bind(journal);
    journal.recordAll = async (recorded) => {
      events.push(`record ${recorded.map((event) => event.type).join('+')}`);
      await recordAll(recorded);
    };
    return { journal, uploader: new SegmentUploader({ store, journal, quota }) };
  }

  it('pays for each part as the store sends it, the manifest with the last part, and never between the last put and its journal record', async () => {
    const { dir, segments } = await sealedSegments(3, 200);
    const events: string[] = [];
    const store = new MemoryRemoteStore();
    store.partBytes = 1000;
    store.sending = (key, bytes) => events.push(`send ${key.slice(key.lastIndexOf('.') + 1)} ${bytes}`);
    const quota = new CountingQuota(1000, manualClock(events));
    const { journal, uploader } = await recordedUploader(dir, store, quota, events);
    for (const segment of segments) uploader.enqueue(segment);
    await uploader.idle();
    expect(uploader.stats()).toMatchObject({ copied: 3, queued: 0 });
    // The first copy starts alone; each later one starts under the sync that finishes the one before.
    const part = String.raw`wait \d+ \| send log \d+`;
    const copy = String.raw`put log( \| ${part})+ \| put manifest \| send manifest \d+ \| record copy-finished(\+copy-started)?`;
    expect(events.join(' | ')).toMatch(new RegExp(String.raw`^record copy-started( \| ${copy}){3}$`));
    // Every byte put was paid for exactly once: a thousand bytes a second is a byte a millisecond.
    expect(quota.paid).toBe(uploader.stats().copiedBytes);
    const waited = events.filter((event) => event.startsWith('wait')).reduce((sum, event) => sum + Number(event.slice(5)), 0);
    expect(Math.abs(waited - uploader.stats().copiedBytes)).toBeLessThanOrEqual(events.length);
    await uploader.close();
    await journal.close();
  });

  it('never sends more than the rate allows since the quota began, nor more than a burst (or one larger part) plus the rate over any stretch, and every copy finishes', async () => {
    const { dir, segments } = await sealedSegments(3, 300);
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 200, max: 8_000 }),
      fc.integer({ min: 500, max: 20_000 }),
      fc.array(fc.double({ min: 0, max: 3_000, noNaN: true }), { minLength: 1, maxLength: 20 }),
      async (partBytes, bytesPerSecond, steps) => {
        const events: string[] = [];
        const clock = manualClock(events);
        const store = new MemoryRemoteStore();
        store.partBytes = partBytes;
        const sends: { at: number; bytes: number }[] = [];
        let transfers = 0;
        let transferTime = 0;
        store.sending = (key, bytes) => {
          sends.push({ at: clock.time, bytes });
          events.push(`send ${key.slice(key.lastIndexOf('.') + 1)}`);
          // The request takes its time: the clock moves on while it is "sent".
          const step = steps[transfers++ % steps.length]!;
          clock.time += step;
          transferTime += step;
        };
        const quota = new CountingQuota(bytesPerSecond, clock);
        const { journal, uploader } = await recordedUploader(dir, store, quota, events);
        for (const segment of segments) uploader.enqueue(segment);
        await uploader.idle();
        const { copied, copiedBytes } = uploader.stats();
        await uploader.close();
        await journal.close();
        // Progress: every copy finished, each byte paid once, and no wait longer than the bytes take.
        expect(copied).toBe(segments.length);
        expect(quota.paid).toBe(copiedBytes);
        expect(clock.time).toBeLessThanOrEqual(transferTime + (copiedBytes / bytesPerSecond) * 1000 + 1e-6);
        // The rate: from the quota's start (its bucket starts empty), and over every stretch between two sends.
        const rate = bytesPerSecond / 1000;
        const largestPayment = partBytes + ENCODED_MANIFEST_BYTES;
        // A manifest is paid for with its copy's last part and sent after that part's transfer:
        // a stretch that starts at its send holds bytes paid before it began, one manifest at most.
        const paidAhead = ENCODED_MANIFEST_BYTES;
        // Times here are sums of many float waits and steps: a thousandth of a byte of slack.
        const slack = 1e-3;
        let total = 0;
        for (const [first, send] of sends.entries()) {
          total += send.bytes;
          expect(total).toBeLessThanOrEqual(rate * send.at + slack);
          let run = 0;
          for (const later of sends.slice(first)) {
            run += later.bytes;
            expect(run).toBeLessThanOrEqual(Math.max(bytesPerSecond * COPY_BURST_SECONDS, largestPayment) + paidAhead + rate * (later.at - send.at) + slack);
          }
        }
        // Once a copy's last part is sent, nothing waits before its manifest and its record.
        for (const tail of events.join(' | ').split('record copy-finished').slice(0, -1)) {
          expect(tail.slice(tail.lastIndexOf('send log'))).not.toContain('wait');
        }
      },
    ), { numRuns: 25 });
  });

  it('pays for what a store sent without asking before the manifest goes, once', async () => {
    const { dir, segments } = await sealedSegments(2, 200);
    const events: string[] = [];
    const store = new MemoryRemoteStore();
    store.asksBeforeSending = false;
    const quota = new CountingQuota(1000, manualClock(events));
    const { journal, uploader } = await recordedUploader(dir, store, quota, events);
    for (const segment of segments) uploader.enqueue(segment);
    await uploader.idle();
    expect(events.join(' | ')).toMatch(/^record copy-started( \| put log \| wait \d+ \| put manifest \| record copy-finished(\+copy-started)?){2}$/);
    expect(quota.paid).toBe(uploader.stats().copiedBytes);
    await uploader.close();
    await journal.close();
  });

  it('closes at once while a copy waits on the quota (a wait that only an abort ends), leaving the copy started for the next open', async () => {
    const { dir, segments } = await sealedSegments(2, 200);
    const journal = await OffloadJournal.open(join(dir, 'offload.journal'));
    const store = new MemoryRemoteStore();
    let waitBegan = (): void => undefined;
    const waiting = new Promise<void>((resolve) => {
      waitBegan = resolve;
    });
    const clock: QuotaClock = {
      now: () => 0,
      sleep: (_ms, signal) => {
        waitBegan();
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      },
    };
    const uploader = new SegmentUploader({ store, journal, quota: new CopyQuota(1, clock) });
    for (const segment of segments) uploader.enqueue(segment);
    await waiting;
    await uploader.close();
    expect(store.objects.size).toBe(0);
    expect(journal.unfinished().map((copy) => copy.baseOffset)).toEqual([segments[0]!.baseOffset]);
    await journal.close();
  });

  it('closes at once while a part of a copy waits on the quota, storing no object and leaving the copy started', async () => {
    const { dir, segments } = await sealedSegments(1, 200);
    const journal = await OffloadJournal.open(join(dir, 'offload.journal'));
    const store = new MemoryRemoteStore();
    store.partBytes = 1000;
    let sent = 0;
    store.sending = () => sent++;
    let waitBegan = (): void => undefined;
    const waiting = new Promise<void>((resolve) => {
      waitBegan = resolve;
    });
    let sleeps = 0;
    // The first two parts wait and go; the third waits until the close.
    const clock: QuotaClock = {
      now: () => 0,
      sleep: (_ms, signal) => {
        if (++sleeps <= 2) return Promise.resolve();
        waitBegan();
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      },
    };
    const uploader = new SegmentUploader({ store, journal, quota: new CopyQuota(1, clock) });
    uploader.enqueue(segments[0]!);
    await waiting;
    await uploader.close();
    expect(sent).toBe(2);
    expect(store.objects.size).toBe(0);
    expect(journal.unfinished().map((copy) => copy.baseOffset)).toEqual([segments[0]!.baseOffset]);
    await journal.close();
  });

  it('refuses a quota that is neither 0 nor at least a byte a second with KEEL_BAD_ARGUMENT, creating nothing', async () => {
    const remote = new MemoryRemoteStore();
    for (const copyBytesPerSecond of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null]) {
      const dir = join(tempDir(), 'log');
      const tiered = { remote, prefix: 'a/', copyBytesPerSecond } as never;
      await expect(SegmentLog.open(dir, { durability: { mode: 'explicit' }, tiered })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
      expect(existsSync(dir)).toBe(false);
    }
    expect(remote.objects.size).toBe(0);
  });
});
