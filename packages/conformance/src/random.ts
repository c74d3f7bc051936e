import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** The largest value `Random.next` can return is just below 1: integers in [0, 2^32) over 2^32. */
const UNIT_STEPS = 2 ** 32;

/**
 * The random choices of a crash (which writes survive, where a tear or a flip lands),
 * drawn from pure-rand's xoroshiro128+ — the generator fast-check itself runs on — so
 * that the seed fast-check generated for a crash plan replays the same disk exactly,
 * and the suite carries no generator of its own to get wrong.
 */
export class Random {
  readonly #generator: RandomGenerator;

  constructor(seed: number) {
    const generator = xoroshiro128plus(seed | 0);
    // A freshly seeded xoroshiro128+ starts from a barely mixed state (its first output is
    // the seed's complement): jump once, as fast-check does before every run it generates.
    generator.unsafeJump?.();
    this.#generator = generator;
  }

  /** A float in [0, 1). */
  next(): number {
    return unsafeUniformIntDistribution(0, UNIT_STEPS - 1, this.#generator) / UNIT_STEPS;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    if (bound <= 0) return 0;
    return unsafeUniformIntDistribution(0, bound - 1, this.#generator);
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return unsafeUniformIntDistribution(low, high, this.#generator);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick needs at least one item');
    return items[this.below(items.length)] as T;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.below(256);
    return out;
  }
}
