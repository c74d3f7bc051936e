/**
 * Workload data. Payloads are pseudo-random (a fixed-seed xorshift) so that no system
 * gains from compressible input, and prepared before timing so that generating them is
 * never billed to a system.
 */

export const RECORD_BYTES_SMALL = 100;
export const RECORD_BYTES_PAGE = 4096;
export const RECORD_BYTES_KIBIBYTE = 1024;

export class RandomSource {
  #state: number;
  constructor(seed = 0x9e3779b9) {
    this.#state = seed >>> 0 || 1;
  }
  /** A uniformly distributed unsigned 32-bit integer. */
  next(): number {
    let state = this.#state;
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    this.#state = state >>> 0;
    return this.#state;
  }
  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * bound);
  }
  fill(bytes: Uint8Array): Uint8Array {
    for (let index = 0; index < bytes.length; index++) bytes[index] = this.next() & 0xff;
    return bytes;
  }
}

/** `count` distinct payloads of `bytes` each, sharing one backing buffer. */
export function makePayloads(count: number, bytes: number, seed = 1): Buffer[] {
  const backing = Buffer.allocUnsafe(count * bytes);
  new RandomSource(seed).fill(backing);
  const payloads: Buffer[] = [];
  for (let index = 0; index < count; index++) payloads.push(backing.subarray(index * bytes, (index + 1) * bytes));
  return payloads;
}

const KEY_DIGITS = 10;

/** The key every key-value system uses for record `index`: fixed width, so sorted = inserted. */
export function keyFor(index: number): string {
  return `key${String(index).padStart(KEY_DIGITS, '0')}`;
}

/** An 8-byte big-endian sequence key for the peers that store log records as key-value pairs. */
export function sequenceKey(sequence: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeBigUInt64BE(BigInt(sequence));
  return key;
}

/** A shuffled order of [0, count) for random reads. */
export function shuffledIndexes(count: number, seed = 7): Uint32Array {
  const order = new Uint32Array(count);
  for (let index = 0; index < count; index++) order[index] = index;
  const random = new RandomSource(seed);
  for (let index = count - 1; index > 0; index--) {
    const other = random.below(index + 1);
    const held = order[index] as number;
    order[index] = order[other] as number;
    order[other] = held;
  }
  return order;
}

/** Record `index` of a timestamped log carries this timestamp plus `index` milliseconds. */
export const TIMESTAMP_BASE_MS = 1_700_000_000_000;
