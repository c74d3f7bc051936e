import { summarize } from '../statistics.js';
import type { BenchSystem } from '../types.js';

/** One way of making one record (or one batch) durable, measured per call. */
export interface PairedVariant {
  readonly name: string;
  setup(): Promise<void>;
  /** One durable append (of a record or a batch). */
  once(): Promise<unknown> | void;
  teardown(): Promise<void>;
}

const NANOSECONDS_PER_MICROSECOND = 1e3;

/**
 * A variant over a store opened by `open` at setup and closed at teardown, with `once`
 * making one unit of work durable on it.
 */
export function storeVariant<S extends { close(): Promise<unknown> }>(name: string, open: () => Promise<S>, once: (store: S) => Promise<unknown> | void): PairedVariant {
  let store: S | undefined;
  return {
    name,
    setup: async () => void (store = await open()),
    once: () => once(store as S),
    teardown: async () => void (await store?.close()),
  };
}

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
