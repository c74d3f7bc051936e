import { badArgument } from '@keel/core';
import type { MappingRecord } from './mapping-file.js';
import { PayloadRef } from './payload-ref.js';

export type CompactionState = 'pending' | 'committed' | 'aborted';

/** How a plan asks its store to finish it. */
export interface CompactionResolver {
  commit(plan: CompactionPlan): Promise<void>;
  abort(plan: CompactionPlan): Promise<void>;
}

/**
 * A compaction whose new segment and ref map are durable. Until `commit()`, both the old
 * and the new refs resolve; `commit()` deletes the sources, `abort()` deletes the new
 * segment. Either may be called again after it resolved (it does nothing), but not both.
 */
export class CompactionPlan {
  /** `PayloadRef.key(old ref)` → new ref, for every live payload that moved. */
  readonly mapping: ReadonlyMap<string, PayloadRef>;
  /** The segment the live payloads were written to; null when there was nothing to compact. */
  readonly output: number | null;
  /** The segments `commit()` deletes. */
  readonly sources: readonly number[];
  readonly #resolver: CompactionResolver;
  #state: CompactionState = 'pending';
  #running: Promise<void> | null = null;

  /** `moves`, when given, is the mapping already built from `record` (compaction builds it as it copies). */
  constructor(record: MappingRecord | null, resolver: CompactionResolver, moves?: Map<string, PayloadRef>) {
    this.mapping = moves ?? mappingOf(record);
    this.output = record?.output ?? null;
    this.sources = Object.freeze([...(record?.sources ?? [])]);
    this.#resolver = resolver;
  }

  get state(): CompactionState {
    return this.#state;
  }

  /** The new ref of `ref`, or `ref` itself when compaction did not move it. */
  resolve(ref: PayloadRef): PayloadRef {
    return this.mapping.get(PayloadRef.key(ref)) ?? ref;
  }

  commit(): Promise<void> {
    return this.#finish('committed', () => this.#resolver.commit(this));
  }

  abort(): Promise<void> {
    return this.#finish('aborted', () => this.#resolver.abort(this));
  }

  #finish(target: Exclude<CompactionState, 'pending'>, run: () => Promise<void>): Promise<void> {
    if (this.#state === target) return Promise.resolve();
    if (this.#state !== 'pending') return Promise.reject(badArgument(`this compaction was already ${this.#state}; it cannot also be ${target}`));
    if (this.#running) return this.#running.then(() => this.#finish(target, run));
    this.#running = run().then(
      () => {
        this.#state = target;
        this.#running = null;
      },
      (error: unknown) => {
        this.#running = null;
        throw error;
      },
    );
    return this.#running;
  }
}

function mappingOf(record: MappingRecord | null): Map<string, PayloadRef> {
  const mapping = new Map<string, PayloadRef>();
  for (const entry of record?.entries ?? []) mapping.set(PayloadRef.key(entry.from), Object.freeze({ ...entry.to }));
  return mapping;
}
