import type { Scenario } from './scenario.js';

/**
 * Generated scenarios that once broke a backend, replayed by `describeBackend` in every
 * run: a fresh seed may or may not draw them again, so each stays fixed. Each is kept as
 * the counterexample itself (fast-check prints it with every failure), not as a seed and
 * path: a path is only valid for the arbitraries it was drawn from, and those grow (a new
 * fault kind reshuffles every path). A crash seed is one that leaves exactly the disk
 * the counterexample left: when the crash generator changed (to pure-rand's
 * xoroshiro128+), each was searched for again and matched byte for byte.
 */
export interface KnownHardCase {
  /** The adapter's `name`. */
  backend: string;
  /** What broke, so that a failure here points at its cause. */
  why: string;
  scenario: Scenario;
}

export const KNOWN_HARD_CASES: readonly KnownHardCase[] = [
  {
    backend: 'journal',
    why: 'a misdirected write refused, then salvaged: the salvaged records were checked without the undetectable-misplacement allowance of position-free frames (seed -892352071)',
    scenario: {
      durability: 'every-n',
      steps: [
        { type: 'write', size: 21, key: 0, remove: false },
        { type: 'batch', sizes: [31, 46, 22, 35], keys: [0, 0, 0, 0], removes: [false, false, false, false] },
        { type: 'write', size: 0, key: 0, remove: false },
      ],
      fault: { kind: 'misdirected-write', crash: { seed: 242_392, data: { mode: 'keep-all' }, entries: 'keep-all', damage: { kind: 'misdirect', length: 12 } } },
      tail: [
        { type: 'batch', sizes: [6, 0, 13, 10], keys: [0, 0, 0, 0], removes: [false, false, false, false] },
        { type: 'batch', sizes: [37], keys: [0], removes: [false] },
        { type: 'write', size: 7, key: 0, remove: false },
        { type: 'write', size: 13, key: 0, remove: false },
      ],
    },
  },
  {
    backend: 'segment-log',
    why: 'a stale frame of another segment in the active segment: open cut the torn tail after it, then refused the misnumbered record, so a refused open had changed a file',
    scenario: {
      durability: 'explicit',
      steps: [{ type: 'write', size: 0, key: 0, remove: false }],
      fault: { kind: 'stale-tail', crash: { seed: 4, data: { mode: 'stale' }, entries: 'keep-all' } },
      tail: [
        { type: 'protocol', name: 'roll' },
        { type: 'batch', sizes: [0, 0, 25], keys: [0, 0, 0], removes: [false, false, false] },
      ],
    },
  },
  {
    backend: 'segment-log',
    why: 'open after a process crash inside a flush adopted sealed segments whose log and index were in the page cache only; a power loss then lost the index, and damage to the sealed log was cut with every segment after it instead of refused (seed -582297325)',
    scenario: {
      durability: 'explicit',
      steps: [
        { type: 'batch', sizes: [0, 0, 27, 30], keys: [0, 0, 0, 0], removes: [false, false, false, false] },
        { type: 'process-crash', inSync: true },
        { type: 'write', size: 0, key: 0, remove: false },
        { type: 'write', size: 24, key: 0, remove: false },
        { type: 'write', size: 7, key: 0, remove: false },
        { type: 'protocol', name: 'roll' },
        { type: 'sync' },
      ],
      fault: { kind: 'misdirected-write', crash: { seed: 1_403_254_411, data: { mode: 'lose-all' }, entries: 'keep-all', damage: { kind: 'misdirect', length: 1 } } },
      tail: [
        { type: 'write', size: 0, key: 0, remove: false },
        { type: 'write', size: 14, key: 0, remove: false },
        { type: 'write', size: 43, key: 0, remove: false },
        { type: 'batch', sizes: [0, 19], keys: [0, 0], removes: [false, false] },
        { type: 'write', size: 15, key: 0, remove: false },
        { type: 'write', size: 27, key: 0, remove: false },
      ],
    },
  },
  {
    backend: 'segment-log',
    why: 'a write torn byte by byte left the next segment file a roll had prepared and used with a torn header and scattered record bytes behind it: open refused it as not its own instead of setting it aside (seed -2144862460)',
    scenario: {
      durability: 'explicit',
      steps: [
        { type: 'batch', sizes: [0], keys: [0], removes: [false] },
        { type: 'write', size: 0, key: 0, remove: false },
      ],
      fault: { kind: 'recovery-crash', first: { seed: 761_616_597, data: { mode: 'torn', granularity: 1 }, entries: 'keep-all' }, mutation: 1, crash: { seed: 0, data: { mode: 'keep-all' }, entries: 'keep-all' } },
      tail: [
        { type: 'write', size: 9, key: 0, remove: false },
        { type: 'sync' },
      ],
    },
  },
  {
    backend: 'segment-log',
    why: 'deleteBefore right after roll() named in its checkpoint the new segment, still under its prepared name with no durable header: a power cut left that file empty, open removed it as unused, and the checkpoint named a segment that was not there (seed -1902870020)',
    scenario: {
      durability: 'explicit',
      steps: [
        { type: 'write', size: 0, key: 0, remove: false },
        { type: 'sync' },
        { type: 'protocol', name: 'roll' },
        { type: 'write', size: 0, key: 0, remove: false },
      ],
      fault: { kind: 'protocol-crash-point', mutation: 7, choice: 21, crash: { seed: 0, data: { mode: 'lose-all' }, entries: 'keep-all' } },
      tail: [{ type: 'reopen' }],
    },
  },
  {
    backend: 'segment-log',
    why: 'writers waiting on a group commit across a roll were acknowledged, then a power cut came before the sealed segment’s index frames were durable and a bit flipped in its last record: open took the damage for a torn tail and set the next segment, acknowledged records and all, aside (seed 7)',
    scenario: {
      durability: 'explicit',
      steps: [
        { type: 'write', size: 32, key: 0, remove: false },
        { type: 'batch', sizes: [43, 28, 39, 36], keys: [0, 0, 0, 0], removes: [false, false, false, false] },
        { type: 'protocol', name: 'roll' },
      ],
      fault: { kind: 'group-commit-crash', writers: 2, released: 2, crash: { seed: 2_147_221_427, data: { mode: 'byte-prefix' }, entries: 'keep-all', damage: { kind: 'bit-flip' } } },
      tail: [{ type: 'write', size: 0, key: 0, remove: false }],
    },
  },
  {
    backend: 'payload-store',
    why: "a crash during the recovery of a torn rotation left the new segment's header torn with its magic whole and its version bytes zero: open took it for a segment of an older format and refused (seed -831262114)",
    scenario: {
      durability: 'explicit',
      steps: [
        { type: 'write', size: 0, key: 0, remove: false },
        { type: 'write', size: 12, key: 0, remove: false },
        { type: 'sync' },
      ],
      fault: { kind: 'recovery-crash', first: { seed: 0, data: { mode: 'torn', granularity: 1 }, entries: 'keep-all' }, mutation: 1, crash: { seed: 0, data: { mode: 'keep-all' }, entries: 'keep-all' } },
      tail: [
        { type: 'write', size: 14, key: 0, remove: false },
        { type: 'write', size: 11, key: 0, remove: false },
      ],
    },
  },
];

export function knownHardCasesOf(backend: string): KnownHardCase[] {
  return KNOWN_HARD_CASES.filter((known) => known.backend === backend);
}
