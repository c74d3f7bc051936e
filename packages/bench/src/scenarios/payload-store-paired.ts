import { join } from 'node:path';
import { loadBackend, type PayloadStore } from '../backends.js';
import { makePayloads, RECORD_BYTES_PAGE } from '../records.js';
import type { Scenario } from '../types.js';
import { pairedSystems, storeVariant, type PairedVariant } from './paired-rounds.js';
import { rawFsPairedVariant, SYSTEM_RAW_FS } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_PAYLOADS = 256;

function payloadStoreVariant(name: string, directory: string, payloads: readonly Uint8Array[], mode: 'sync' | 'syncSync'): PairedVariant {
  const open = async (): Promise<PayloadStore> => (await loadBackend('payload-store')).PayloadStore.open(directory, { durability: EXPLICIT });
  return storeVariant(name, open, (store) => {
    store.appendBatch(payloads);
    if (mode === 'sync') return store.sync();
    store.syncSync();
    return undefined;
  });
}

/**
 * payload-store's durable 1 MiB batches against node:fs writing and fdatasyncing the same
 * bytes, the systems taking turns batch by batch (see `pairedSystems`) so that the shared
 * disk's slow moments weigh on each alike: in rounds of 24 batches per system
 * (payload-store-append-4k) the same comparison moved from 0.82× to 1.07× between runs of
 * one afternoon. µs per durable batch of 256 4 KiB payloads, the median of each round.
 */
export const PAYLOAD_STORE_APPEND_PAIRED_SCENARIO: Scenario = {
  name: 'payload-store-append-4k-paired',
  backend: 'payload-store',
  description: `µs per durable batch of ${BATCH_PAYLOADS} 4 KiB payloads (1 MiB), the systems taking turns batch by batch: keel with sync() and with syncSync(), node:fs with fdatasyncSync and with async fs.fdatasync`,
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [{ kind: 'ratio-at-least', system: SYSTEM_RAW_FS, factor: 0.95 }],
  sizing: (quick) => ({ workPerRound: quick ? 4 : 40, rounds: quick ? 2 : 5, warmupRounds: 1 }),
  async systems(context, sizing) {
    const payloads = makePayloads(BATCH_PAYLOADS, RECORD_BYTES_PAGE);
    const at = (name: string): string => join(context.directory, name);
    return pairedSystems(
      [
        payloadStoreVariant('keel payload-store', at('payload-store-sync'), payloads, 'sync'),
        rawFsPairedVariant(SYSTEM_RAW_FS, context.directory, 'raw.log', payloads, 'sync'),
        rawFsPairedVariant(`${SYSTEM_RAW_FS} async fdatasync`, context.directory, 'raw-async.log', payloads, 'async'),
        payloadStoreVariant('keel payload-store syncSync', at('payload-store-syncSync'), payloads, 'syncSync'),
      ],
      sizing.workPerRound,
    );
  },
};
