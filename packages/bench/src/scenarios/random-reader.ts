import { RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem } from '../types.js';

export type GetStore = { get: (key: string) => Uint8Array | undefined; close: () => Promise<void> };

/** `work` gets per round of `keys` in turn (they wrap around), each checked for a `valueBytes`-byte value (100 unless told). */
export function randomReader(name: string, keys: readonly string[], work: number, open: () => Promise<GetStore>, valueBytes = RECORD_BYTES_SMALL): BenchSystem {
  let store: GetStore | undefined;
  return {
    name,
    setup: async () => void (store = await open()),
    async run() {
      for (let done = 0; done < work; done++) {
        if (store?.get(keys[done % keys.length] as string)?.length !== valueBytes) throw new Error(`${name}: a value is missing`);
      }
    },
    teardown: async () => store?.close(),
  };
}
