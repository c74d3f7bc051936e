import { GCProfiler } from 'node:v8';
import { RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem } from '../types.js';

export type GetStore = { get: (key: string) => Uint8Array | undefined; close: () => Promise<void> };

const MICROSECONDS_PER_MILLISECOND = 1000;

/**
 * `work` gets per round of `keys` in turn (they wrap around), each checked for a
 * `valueBytes`-byte value (100 unless told). The details give what the collector did
 * during the round: a get that returns a copy allocates its bytes outside the JS heap,
 * and V8 answers enough of that with full collections (mark-compacts) of the whole heap,
 * whose cost grows with everything else the process holds.
 */
export function randomReader(name: string, keys: readonly string[], work: number, open: () => Promise<GetStore>, valueBytes = RECORD_BYTES_SMALL): BenchSystem {
  let store: GetStore | undefined;
  let details: Record<string, number> = {};
  return {
    name,
    setup: async () => void (store = await open()),
    async run() {
      const profiler = new GCProfiler();
      const cpu = process.cpuUsage();
      profiler.start();
      for (let done = 0; done < work; done++) {
        if (store?.get(keys[done % keys.length] as string)?.length !== valueBytes) throw new Error(`${name}: a value is missing`);
      }
      const collections = profiler.stop()?.statistics ?? [];
      const used = process.cpuUsage(cpu);
      const fullCollections = collections.filter((collection) => collection.gcType === 'MarkSweepCompact');
      details = {
        'CPU µs/get': (used.user + used.system) / work,
        'mark-compacts': fullCollections.length,
        'mark-compact ms': fullCollections.reduce((sum, collection) => sum + collection.cost, 0) / MICROSECONDS_PER_MILLISECOND,
      };
    },
    details: () => details,
    teardown: async () => store?.close(),
  };
}
