import { badArgument } from './errors.js';
import { describeType } from './validate.js';

/**
 * When a store makes its writes durable on its own. Whatever the mode, `sync()` and
 * `syncThrough()` always work and are the only way a caller learns that data is durable.
 *
 * - `none`: never fsyncs on its own, not even on close (OS page cache only).
 * - `every-write`: every write starts a group commit; writes made in the same tick, or
 *   while a sync is running, share the next fdatasync.
 * - `every-n`: a group commit after every `n` writes.
 * - `interval`: a group commit every `ms` milliseconds while there are unsynced writes.
 * - `explicit`: only when the caller asks, and on close.
 */
export type DurabilityPolicy =
  | { readonly mode: 'none' }
  | { readonly mode: 'every-write' }
  | { readonly mode: 'every-n'; readonly n: number }
  | { readonly mode: 'interval'; readonly ms: number }
  | { readonly mode: 'explicit' };

/** The modes without parameters may be given by name: `durability: 'none'`. */
export type DurabilityModeName = 'none' | 'every-write' | 'explicit';

/** What a store's `durability` option accepts. */
export type DurabilityOption = DurabilityPolicy | DurabilityModeName;

const MODE_NAMES: readonly string[] = ['none', 'every-write', 'explicit'];

export const DURABILITY_DEFAULT: DurabilityPolicy = Object.freeze({ mode: 'explicit' });
export const DURABILITY_INTERVAL_MS_MIN = 1;

export function normalizeDurability(option: DurabilityOption | undefined): DurabilityPolicy {
  if (option === undefined) return DURABILITY_DEFAULT;
  if (typeof option === 'string' && MODE_NAMES.includes(option)) return Object.freeze({ mode: option as DurabilityModeName });
  const policy = option as DurabilityPolicy;
  if (policy === null || typeof policy !== 'object') {
    throw badArgument(`durability must be 'none', 'every-write', 'explicit' or an object like { mode: 'every-n', n: 100 }, got ${describeType(policy)}`);
  }
  switch (policy.mode) {
    case 'none':
    case 'every-write':
    case 'explicit':
      return Object.freeze({ mode: policy.mode });
    case 'every-n':
      if (!Number.isInteger(policy.n) || policy.n < 1) throw badArgument(`durability every-n needs an integer n >= 1, got ${describeType(policy.n)}`);
      return Object.freeze({ mode: 'every-n', n: policy.n });
    case 'interval':
      if (!Number.isFinite(policy.ms) || policy.ms < DURABILITY_INTERVAL_MS_MIN) {
        throw badArgument(`durability interval needs ms >= ${DURABILITY_INTERVAL_MS_MIN}, got ${describeType(policy.ms)}`);
      }
      return Object.freeze({ mode: 'interval', ms: policy.ms });
    default:
      throw badArgument(`unknown durability mode (${describeType((policy as { mode: unknown }).mode)}); use none, every-write, every-n, interval or explicit`);
  }
}

/** Whether close() ends with a final sync under this policy. */
export function syncsOnClose(policy: DurabilityPolicy): boolean {
  return policy.mode !== 'none';
}
