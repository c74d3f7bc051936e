import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

/** keel's own sync threads: their time is the sync being measured, not a helper's. */
const SYNC_THREAD_NAME = 'keel-sync';
/** A schedstat line is three decimal numbers; the first (ns on a CPU) fits well within this. */
const SCHEDSTAT_BYTES_MAX = 128;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;

/**
 * How long this process's helper threads ran on a CPU: V8's workers (optimizing compiles,
 * parallel scavenges, concurrent marking and sweeping) and libuv's threadpool, every
 * thread but the main one and keel's sync threads. On a machine with few cores their work
 * takes a core from the main thread or from the thread a sync completes on, which a batch
 * then waits out. Read from /proc/self/task/<tid>/schedstat (Linux), without allocating
 * (a sample that allocated would itself bring on the scavenges it counts). The threads are
 * those alive when the clock opens: V8's workers start with the process and libuv's with
 * its first use, so opening after a warm-up finds them all; one that exits keeps its last
 * reading.
 */
export class HelperThreadClock {
  readonly #threads: { fd: number; nanoseconds: number }[];
  readonly #buffer = Buffer.alloc(SCHEDSTAT_BYTES_MAX);

  private constructor(fds: number[]) {
    this.#threads = fds.map((fd) => ({ fd, nanoseconds: 0 }));
  }

  /** null where /proc does not report per-thread CPU time (not Linux, or no schedstat). */
  static open(): HelperThreadClock | null {
    const fds: number[] = [];
    try {
      for (const tid of readdirSync('/proc/self/task')) {
        if (tid === String(process.pid)) continue;
        if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === SYNC_THREAD_NAME) continue;
        fds.push(openSync(`/proc/self/task/${tid}/schedstat`, 'r'));
      }
    } catch {
      for (const fd of fds) closeSync(fd);
      return null;
    }
    return new HelperThreadClock(fds);
  }

  /** Nanoseconds on a CPU, summed over the helper threads, since each started. */
  nanoseconds(): number {
    let total = 0;
    for (const thread of this.#threads) {
      try {
        const length = readSync(thread.fd, this.#buffer, 0, SCHEDSTAT_BYTES_MAX, 0);
        thread.nanoseconds = leadingInteger(this.#buffer, length);
      } catch {
        // The thread exited: it ran no more.
      }
      total += thread.nanoseconds;
    }
    return total;
  }

  close(): void {
    for (const thread of this.#threads) closeSync(thread.fd);
    this.#threads.length = 0;
  }
}

function leadingInteger(bytes: Uint8Array, length: number): number {
  let value = 0;
  for (let index = 0; index < length; index++) {
    const byte = bytes[index] as number;
    if (byte < DIGIT_ZERO || byte > DIGIT_NINE) break;
    value = value * 10 + (byte - DIGIT_ZERO);
  }
  return value;
}
