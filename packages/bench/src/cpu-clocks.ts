import { openSync, readFileSync, readSync } from 'node:fs';

const NANOSECONDS_PER_MILLISECOND = 1e6;
/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = 100;

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
  const buffer = Buffer.alloc(128);
  return () => Number(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)).split(' ')[0]) / NANOSECONDS_PER_MILLISECOND;
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
