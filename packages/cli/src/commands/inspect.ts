import { detectStore } from '../detect.js';
import { printFields, printJson } from '../output.js';
import { openStore } from '../stores.js';
import { describeRecovery } from './recovery-summary.js';

/** `keel inspect <path>`: which backend, its shape, and what a writer's open would do; changes nothing. */
export async function inspect(path: string, options: { json?: boolean }): Promise<number> {
  const detected = detectStore(path);
  const store = await openStore(detected.backend, path, { readOnly: true });
  try {
    const report = { path, backend: detected.backend, ...store.shape(), recovery: describeRecovery(store.recovery, 'would') };
    if (options.json === true) printJson(report);
    else printFields(report);
  } finally {
    await store.close();
  }
  return 0;
}
