import type { FaultKind } from './faults.js';
import type { ScenarioResult } from './runner.js';
import { violation } from './violation.js';

interface Counts {
  scenarios: number;
  fired: number;
  recovered: number;
  refused: number;
  salvaged: number;
  undetectable: number;
}

/** Counts scenarios and fired faults per fault kind for one backend's run. */
export class FaultTally {
  readonly backend: string;
  readonly #counts = new Map<FaultKind, Counts>();

  constructor(backend: string, kinds: readonly FaultKind[]) {
    this.backend = backend;
    for (const kind of kinds) this.#counts.set(kind, { scenarios: 0, fired: 0, recovered: 0, refused: 0, salvaged: 0, undetectable: 0 });
  }

  add(result: ScenarioResult): void {
    const counts = this.#counts.get(result.fault);
    if (counts === undefined) return;
    counts.scenarios++;
    if (result.fired) counts.fired++;
    counts[result.outcome]++;
  }

  get scenarios(): number {
    let total = 0;
    for (const counts of this.#counts.values()) total += counts.scenarios;
    return total;
  }

  /** A fault kind that never fired in a run means the run proved nothing about it. */
  assertAllFired(): void {
    const silent = [...this.#counts].filter(([, counts]) => counts.fired === 0).map(([kind]) => kind);
    if (silent.length > 0) violation(`${this.backend}: these faults never fired in this run: ${silent.join(', ')}`);
  }

  table(): string {
    const lines = [
      `conformance summary: ${this.backend} (${this.scenarios} scenarios)`,
      '| fault | scenarios | fired | recovered | refused (KEEL_CORRUPT, untouched) | salvaged | undetectable (misplaced frame) |',
      '|---|---:|---:|---:|---:|---:|---:|',
    ];
    for (const [kind, counts] of this.#counts) {
      lines.push(`| ${kind} | ${counts.scenarios} | ${counts.fired} | ${counts.recovered} | ${counts.refused} | ${counts.salvaged} | ${counts.undetectable} |`);
    }
    return lines.join('\n');
  }
}
