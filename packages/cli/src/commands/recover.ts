import { isKeelError } from '@keel/core';
import { detectStore } from '../detect.js';
import { EXIT_FAILED, printFields, printJson } from '../output.js';
import { openStore } from '../stores.js';
import { describeRecovery, repairsOf } from './recovery-summary.js';

export interface RecoverOptions {
  apply?: boolean;
  salvage?: boolean;
  json?: boolean;
}

/**
 * `keel recover <path>`: what open would do to the store (cut, save, rebuild, refuse),
 * from a read-only open that changes nothing. With `--apply` it opens for writing (taking
 * the lock, so not beside a live writer) and does it. `--salvage` is the explicit opt-in
 * that keeps the valid prefix of a log damaged in the middle. A path that is not a keel
 * store is refused before anything is opened.
 */
export async function recover(path: string, options: RecoverOptions): Promise<number> {
  const detected = detectStore(path);
  const policy = options.salvage === true ? 'salvage' : 'truncate-tail';
  const apply = options.apply === true;
  let result: Record<string, unknown>;
  let status = 0;
  try {
    const store = await openStore(detected.backend, path, { readOnly: !apply, recovery: policy });
    const recovery = describeRecovery(store.recovery, apply ? 'did' : 'would');
    await store.close();
    result = { path, backend: detected.backend, policy, applied: apply, outcome: repairsOf(store.recovery).length === 0 ? 'nothing to do' : apply ? 'repaired' : 'would repair', ...recovery };
  } catch (error) {
    if (!isKeelError(error, 'KEEL_CORRUPT')) throw error;
    // Refused: nothing was changed, and the message says why and where.
    result = { path, backend: detected.backend, policy, applied: false, outcome: 'refused', refusal: { code: error.code, message: error.message, file: error.path, offset: error.offset } };
    status = EXIT_FAILED;
  }
  if (options.json === true) printJson(result);
  else printFields(result);
  return status;
}
