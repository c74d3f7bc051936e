import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

const NANOSECONDS_PER_MILLISECOND = 1e6;
/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = 100;
/** A schedstat line is three decimal numbers; the first (ns on a CPU) fits well within this. */
const SCHEDSTAT_BYTES_MAX = 128;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;
/** keel's own sync threads: their time is the sync being measured, not a helper's. */
const SYNC_THREAD_NAME = 'keel-sync';

/**
 * The CPU time (ms) the main thread alone has used, from Linux's per-thread schedstat
 * (nanoseconds, unlike the tick-based stat), or null where there is none. Unlike
 * `process.cpuUsage()` it leaves out the threadpool, worker threads and the collector's
 * helper threads, so it is what the event loop itself spent.
 */
export function mainThreadCpuClock(): (() => number) | null {
  let fd: number;
  try {
    fd = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
  } catch {
    return null;
  }
  const buffer = Buffer.alloc(SCHEDSTAT_BYTES_MAX);
  return () => schedstatNanoseconds(fd, buffer) / NANOSECONDS_PER_MILLISECOND;
}

/**
 * The CPU time (ms, at 10 ms resolution) that other processes have used, every thread
 * included, from /proc/<pid>/stat; a process that has exited counts what it had used when
 * last read. Where there is no /proc the clock reads 0.
 */
export function processesCpuClock(pids: readonly number[]): () => number {
  const last = new Map<number, number>();
  const used = (pid: number): number => {
    try {
      // Fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are 14 and 15.
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      last.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // Gone: what it used until then.
    }
    return last.get(pid) ?? 0;
  };
  return () => pids.reduce((sum, pid) => sum + used(pid), 0);
}

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
        thread.nanoseconds = schedstatNanoseconds(thread.fd, this.#buffer);
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

/** A thread's time on a CPU (ns), the first field of its schedstat, read and parsed without allocating. */
function schedstatNanoseconds(fd: number, buffer: Buffer): number {
  const length = readSync(fd, buffer, 0, buffer.length, 0);
  let value = 0;
  for (let index = 0; index < length; index++) {
    const byte = buffer[index] as number;
    if (byte < DIGIT_ZERO || byte > DIGIT_NINE) break;
    value = value * 10 + (byte - DIGIT_ZERO);
  }
  return value;
}
