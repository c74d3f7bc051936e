/**
 * Generated scenarios that once broke a backend, replayed by `describeBackend` in every
 * run: a fresh seed may or may not draw them again, so each stays fixed by name.
 * A path is fast-check's replay path for the seed (printed with every failure).
 */
export interface KnownHardCase {
  /** The adapter's `name`. */
  backend: string;
  seed: number;
  path: string;
  /** What broke, so that a failure here points at its cause. */
  why: string;
}

export const KNOWN_HARD_CASES: readonly KnownHardCase[] = [
  {
    backend: 'journal',
    seed: -892352071,
    path: '11785:7:2:3:3:4:11:18:24:30:30:54:57:54:63:63:63:67:2:6:64:2:64:67:71:79:84:84:86:86',
    why: 'a misdirected write refused, then salvaged: the salvaged records were checked without the undetectable-misplacement allowance of position-free frames',
  },
];

export function knownHardCasesOf(backend: string): KnownHardCase[] {
  return KNOWN_HARD_CASES.filter((known) => known.backend === backend);
}
