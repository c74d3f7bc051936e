/**
 * Which thread waits for each disk flush. Core's `Io` contract: the async methods run on
 * libuv's threadpool and the `*Sync` ones on the calling thread, so a store's async API
 * keeps the event loop free of fdatasync, fsync and directory fsync only if it never
 * calls a `*Sync` flush. Backends check that in two ways: `FlushThreadIo` sees every
 * flush a store asks its Io for, and `traceFlushThreads` counts, under strace, the
 * fsync and fdatasync system calls each thread of a child process makes.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterceptedIo, nativeIo, type DurabilityPolicy, type Io, type IoMutation } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { TYPESCRIPT_HOOKS_PATH } from './real-files/kill-child-process.js';

export type FlushOperation = Extract<IoMutation, 'datasync' | 'fsync' | 'sync-dir'>;
/** A `*Sync` variant runs on the calling thread (the event loop); the async one on the threadpool. */
export type FlushThread = 'event-loop' | 'thread-pool';

export interface RecordedFlush {
  operation: FlushOperation;
  path: string;
  thread: FlushThread;
  /** What the caller said the store was doing (`FlushThreadIo.phase`). */
  phase: string;
}

const FLUSH_OPERATIONS: ReadonlySet<IoMutation> = new Set<IoMutation>(['datasync', 'fsync', 'sync-dir']);

/** An Io that records every flush, the thread it blocks and the phase it happened in. */
export class FlushThreadIo extends InterceptedIo {
  /** Set by the test around each call it makes ('append', 'roll', 'sync', …). */
  phase = 'open';
  readonly flushes: RecordedFlush[] = [];

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.#record(operation, path, 'event-loop');
    return run();
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.#record(operation, path, 'thread-pool');
    return run();
  }

  /** How many flushes of `operation` (every one when absent) ran on `thread`. */
  count(thread: FlushThread, operation?: FlushOperation): number {
    return this.flushes.filter((flush) => flush.thread === thread && (operation === undefined || flush.operation === operation)).length;
  }

  #record(operation: IoMutation, path: string, thread: FlushThread): void {
    if (FLUSH_OPERATIONS.has(operation)) this.flushes.push({ operation: operation as FlushOperation, path, thread, phase: this.phase });
  }
}

/** Paths that never exist: a failed access() of each fences the traced part of a child's run. */
export const FLUSH_TRACE_BEGIN = '/keel-flush-trace-begin';
export const FLUSH_TRACE_END = '/keel-flush-trace-end';

/** Called by the traced child before and after the work whose flushes count. */
export function markFlushTrace(marker: typeof FLUSH_TRACE_BEGIN | typeof FLUSH_TRACE_END): void {
  try {
    accessSync(marker);
  } catch {
    // The path never exists: the failed call is the marker in the trace.
  }
}

export function straceAvailable(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface TracedFlushes {
  /** fsync + fdatasync calls the main thread (the event loop) made between the markers. */
  eventLoop: number;
  /** The same calls by every other thread (libuv's pool). */
  threadPool: number;
}

const TRACED_CALLS = 'fsync,fdatasync,access,faccessat,faccessat2';
const FLUSH_CALL = /^(\d+)\s+(fdatasync|fsync)\(/;
const TRACE_TIMEOUT_MILLISECONDS = 120_000;

/**
 * Runs the TypeScript `script` under `strace -f` and counts, per thread, the fsync and
 * fdatasync calls made between its two markers. The main thread is the one that made
 * the markers' access() calls. Throws when the child fails or never marks.
 */
export function traceFlushThreads(script: string, args: readonly string[]): TracedFlushes {
  const dir = mkdtempSync(join(tmpdir(), 'keel-flush-trace-'));
  const traceFile = join(dir, 'strace.log');
  try {
    const child = spawnSync('strace', ['-f', '--seccomp-bpf', '-qq', '-e', `trace=${TRACED_CALLS}`, '-o', traceFile, process.execPath, '--import', TYPESCRIPT_HOOKS_PATH, script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: TRACE_TIMEOUT_MILLISECONDS,
    });
    if (child.status !== 0) throw new Error(`traced child ${script} failed (status ${child.status}, signal ${child.signal}): ${child.stderr.toString()}`);
    return countFlushesByThread(readFileSync(traceFile, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts the flush calls of an `strace -f` log between the markers, by main thread and others. */
export function countFlushesByThread(trace: string): TracedFlushes {
  let mainThread: string | null = null;
  let inside = false;
  const counts: TracedFlushes = { eventLoop: 0, threadPool: 0 };
  for (const line of trace.split('\n')) {
    if (line.includes(FLUSH_TRACE_BEGIN)) {
      mainThread = line.split(/\s/, 1)[0] ?? null;
      inside = true;
    } else if (line.includes(FLUSH_TRACE_END)) {
      inside = false;
    } else if (inside) {
      const flush = FLUSH_CALL.exec(line);
      if (flush === null) continue;
      if (flush[1] === mainThread) counts.eventLoop++;
      else counts.threadPool++;
    }
  }
  if (mainThread === null) throw new Error('the traced child never marked the start of its work');
  return counts;
}

/** The workload: 10,000 appends of 100-byte payloads roll a 64 KiB segment about twenty times. */
export const ROLLING_APPENDS = 10_000;
export const ROLLING_SEGMENT_BYTES = 64 * 1024;
const ROLLING_PAYLOAD_BYTES = 100;
/** Every so many appends one batch of ROLLING_BATCH_PAYLOADS goes in instead of one payload. */
const ROLLING_BATCH_EVERY = 100;
const ROLLING_BATCH_PAYLOADS = 10;
/** Appends between turns of the event loop, explicit rolls, and explicit syncs. */
const ROLLING_YIELD_EVERY = 50;
const ROLLING_ROLL_EVERY = 1000;
const ROLLING_SYNC_EVERY = 500;

export const ROLLING_MODES = ['every-write', 'every-n', 'interval', 'explicit', 'none'] as const;
export type RollingMode = (typeof ROLLING_MODES)[number];

export function rollingDurability(mode: RollingMode): DurabilityPolicy {
  if (mode === 'every-n') return { mode, n: 32 };
  if (mode === 'interval') return { mode, ms: 2 };
  return { mode };
}

/** What the workload calls: a backend's append, batch append, roll (or seal) and async sync. */
export interface RollingSubject {
  append(payload: Uint8Array): void;
  appendBatch(payloads: Uint8Array[]): void;
  roll(): void;
  sync(): Promise<unknown>;
}

/**
 * Appends ROLLING_APPENDS payloads (single appends and small batches), rolls now and then
 * on request, lets the event loop turn so that background flushes run meanwhile, and under
 * 'explicit' syncs every ROLLING_SYNC_EVERY payloads; ends with a sync unless the mode is
 * 'none'. `phase` is told what the store is doing.
 */
export async function runRollingWorkload(subject: RollingSubject, mode: RollingMode, phase: (name: string) => void): Promise<void> {
  const payload = new Uint8Array(ROLLING_PAYLOAD_BYTES).fill(7);
  for (let index = 0; index < ROLLING_APPENDS; ) {
    phase('append');
    if (index % ROLLING_BATCH_EVERY === 0) {
      subject.appendBatch(Array.from({ length: ROLLING_BATCH_PAYLOADS }, () => payload));
      index += ROLLING_BATCH_PAYLOADS;
    } else {
      subject.append(payload);
      index++;
    }
    if (index % ROLLING_ROLL_EVERY === 0) {
      phase('roll');
      subject.roll();
    }
    if (mode === 'explicit' && index % ROLLING_SYNC_EVERY === 0) {
      phase('sync');
      await subject.sync();
    }
    if (index % ROLLING_YIELD_EVERY === 0) {
      phase('between calls');
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  phase('sync');
  if (mode !== 'none') await subject.sync();
}

/** A store as the flush-thread tests drive it, opened on a real directory. */
export interface FlushThreadTarget<Store> {
  /** The backend's name, for test names and the figures printed. */
  name: string;
  /** Rolls (or rotations) the workload must cause at least. */
  rollsMin: number;
  /** A script that calls `runRollingChild` with this target's `open`; run under strace. */
  child: string;
  tempDir(): string;
  open(dir: string, durability: DurabilityPolicy, io?: Io): Promise<Store>;
  subject(store: Store): RollingSubject;
  /** Segments rolled (or rotated) so far. */
  rolls(store: Store): number;
  close(store: Store): Promise<void>;
  /** Records (or payloads) a fresh open of `dir` finds. */
  countAfterReopen(dir: string): Promise<number>;
}

/**
 * The flush-thread tests of one backend: under every durability mode, the rolling workload
 * through a `FlushThreadIo` (no flush may run through a `*Sync` variant, in open, append,
 * roll, sync or close), and, where strace is installed, a child process running it in every
 * mode whose main thread may make no fsync or fdatasync at all.
 */
export function describeFlushThreads<Store>(target: FlushThreadTarget<Store>): void {
  describe(`${target.name}: no flush on the event loop while appends roll segments`, () => {
    for (const mode of ROLLING_MODES) {
      it(`durability '${mode}': every fdatasync and directory fsync runs on the threadpool`, async () => {
        const io = new FlushThreadIo(nativeIo);
        const dir = target.tempDir();
        const store = await target.open(dir, rollingDurability(mode), io);
        await runRollingWorkload(target.subject(store), mode, (phase) => (io.phase = phase));
        const rolls = target.rolls(store);
        io.phase = 'close';
        await target.close(store);
        console.log(
          `${target.name} '${mode}': ${rolls} rolls; on the event loop ${io.count('event-loop', 'datasync')} datasyncs, ${io.count('event-loop', 'sync-dir')} directory fsyncs` +
            `; on the threadpool ${io.count('thread-pool', 'datasync')} datasyncs, ${io.count('thread-pool', 'sync-dir')} directory fsyncs`,
        );
        expect(rolls).toBeGreaterThanOrEqual(target.rollsMin);
        expect(io.flushes.filter((flush) => flush.thread === 'event-loop').map((flush) => `${flush.phase}: ${flush.operation} ${flush.path}`)).toEqual([]);
        if (mode !== 'none') expect(io.count('thread-pool', 'datasync')).toBeGreaterThan(0);
        expect(await target.countAfterReopen(dir)).toBe(ROLLING_APPENDS);
      });
    }

    it('under strace, the main thread of a process running the workload in every mode makes no fsync or fdatasync', () => {
      if (!straceAvailable()) {
        console.log('strace is not installed: the traced part of the flush-thread test did not run');
        return;
      }
      const traced = traceFlushThreads(target.child, [target.tempDir(), ...ROLLING_MODES]);
      console.log(`${target.name} under strace, every mode: ${traced.eventLoop} fsync/fdatasync on the main thread, ${traced.threadPool} on other threads`);
      expect(traced.eventLoop).toBe(0);
      expect(traced.threadPool).toBeGreaterThan(0);
    });
  });
}

/**
 * The body of a traced child: `<dir> <mode>…` on its command line; runs the workload on a
 * fresh store in `<dir>/<mode>` under each mode, between the two markers.
 */
export async function runRollingChild<Store>(target: Pick<FlushThreadTarget<Store>, 'open' | 'subject' | 'close'>, argv: readonly string[]): Promise<void> {
  const [dir, ...modes] = argv as [string | undefined, ...RollingMode[]];
  if (dir === undefined || modes.length === 0 || !modes.every((mode) => ROLLING_MODES.includes(mode))) throw new Error('usage: <child> <dir> <durability mode>…');
  markFlushTrace(FLUSH_TRACE_BEGIN);
  for (const mode of modes) {
    const store = await target.open(join(dir, mode), rollingDurability(mode));
    await runRollingWorkload(target.subject(store), mode, () => undefined);
    await target.close(store);
  }
  markFlushTrace(FLUSH_TRACE_END);
}
