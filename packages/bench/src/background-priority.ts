import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { constants, setPriority } from 'node:os';

/** The lowest CPU priority a nice value gives (19: the kernel's weight 15 against 1,024 at 0). */
const NICE_LOWEST = constants.priority.PRIORITY_LOW;
/** Passes over a process's threads before giving up on threads it keeps creating. */
const PASSES_MAX = 10;
/** Linux's SCHED_IDLE policy number, as /proc/<pid>/task/<tid>/stat reports it. */
const SCHED_IDLE = 5;

/** How a process was moved below this one, for the run's log. */
export interface BackgroundReport {
  pid: number;
  /** Its threads, and how many were left at another nice value or policy. */
  threads: number;
  missed: number;
  /** Whether its threads run under SCHED_IDLE (else nice 19 only). */
  idlePolicy: boolean;
  /** Whether it is in this process's autogroup (its session's scheduling group), or there is none. */
  sharesAutogroup: boolean;
}

/**
 * Ranks a running process (every thread, present and future) below this one's threads, so
 * that it runs on CPU time this process does not want.
 *
 * Nice and scheduling policy belong to each thread: setpriority(PRIO_PROCESS, pid), which is
 * what `os.setPriority(pid)` calls, sets only the thread whose id is `pid`. Threads inherit
 * both from the thread that creates them, so every existing thread is set (until a pass
 * finds none left) and later ones follow from their creators. Each is put at nice 19 and,
 * with `chrt` where installed, under SCHED_IDLE, which a waking thread of normal policy
 * preempts at once rather than at the end of its slice.
 *
 * Where the kernel schedules by autogroup (`kernel.sched_autogroup_enabled`), thread
 * priorities only rank threads within one group: a process in a session of its own gets a
 * whole group's share whatever they are. `sharesAutogroup` says whether the process is in
 * this one's group (start it in this session); lowering its group's nice instead would,
 * on a machine busy with other work, starve it of CPU time this process does not use.
 */
export function runBelowThisProcess(pid: number): BackgroundReport {
  const idlePolicy = spawnSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(pid)], { stdio: 'ignore' }).status === 0;
  let missed = 0;
  let threads = 0;
  for (let pass = 0; pass < PASSES_MAX; pass++) {
    const tasks = threadsOf(pid);
    threads = tasks.length;
    const behind = tasks.filter((task) => task.nice !== NICE_LOWEST || (idlePolicy && task.policy !== SCHED_IDLE));
    missed = behind.length;
    if (missed === 0) break;
    for (const task of behind) {
      try {
        setPriority(task.tid, NICE_LOWEST);
        if (idlePolicy && task.policy !== SCHED_IDLE) spawnSync('chrt', ['--idle', '--pid', '0', String(task.tid)], { stdio: 'ignore' });
      } catch {
        // The thread ended between the listing and now.
      }
    }
  }
  return { pid, threads, missed, idlePolicy, sharesAutogroup: autogroupOf(pid) === autogroupOf(process.pid) };
}

/** The autogroup's name (`/autogroup-<n>`), or '' where the kernel has none. */
function autogroupOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/autogroup`, 'latin1').split(' ')[0] ?? '';
  } catch {
    return '';
  }
}

/** Each thread of `pid` with its nice value and scheduling policy (fields 19 and 41 of its stat). */
function threadsOf(pid: number): Array<{ tid: number; nice: number; policy: number }> {
  const tasks: Array<{ tid: number; nice: number; policy: number }> = [];
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${entry}/stat`, 'latin1');
      // Fields after the command name (which may hold spaces) start at the state, field 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      tasks.push({ tid: Number(entry), nice: Number(fields[16]), policy: Number(fields[38]) });
    } catch {
      // Ended while listed.
    }
  }
  return tasks;
}
