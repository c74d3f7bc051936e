import { summarize } from '../statistics.js';
import type { BenchSystem } from '../types.js';

/** One way of making one record durable, measured per call. */
export interface PairedVariant {
  readonly name: string;
  setup(): Promise<void>;
  /** One durable append. */
  once(): Promise<unknown> | void;
  teardown(): Promise<void>;
}

const NANOSECONDS_PER_MICROSECOND = 1e3;

/**
 * Systems whose rounds are measured together, one call of each in turn (A B C, then C B A,
 * …), so that every variant meets the same moments of a shared disk: a burst of another
 * process's writes lands on all of them instead of on whichever system's block of calls
 * it fell in. A round of the first system asked runs `count` calls of every variant and
 * keeps each one's median µs; every system's `run` then reports its own.
 */
export function pairedSystems(variants: readonly PairedVariant[], count: number): BenchSystem[] {
  const pending = new Map<string, number>();
  const measureRound = async (): Promise<void> => {
    const times = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
    for (let index = 0; index < count; index++) {
      for (const variant of index % 2 === 0 ? variants : [...variants].reverse()) {
        const started = process.hrtime.bigint();
        await variant.once();
        times.get(variant.name)?.push(Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_MICROSECOND);
      }
    }
    for (const [name, values] of times) pending.set(name, summarize(values).median);
  };
  return variants.map((variant) => ({
    name: variant.name,
    setup: () => variant.setup(),
    async run() {
      if (!pending.has(variant.name)) await measureRound();
      const value = pending.get(variant.name) as number;
      pending.delete(variant.name);
      return value;
    },
    teardown: () => variant.teardown(),
  }));
}
