import { isKeelError, type RecoveryAction } from '@keel/core';
import { detectStore } from '../detect.js';
import { EXIT_FAILED, EXIT_OK, printFields, printJson } from '../output.js';
import { progressBar } from '../progress.js';
import { writerIsLive } from '../live-writer.js';
import { openStore } from '../stores.js';
import { describeRecovery, repairsOf } from './recovery-summary.js';

/** Repairs that mean bytes on disk were damaged (the rest tidy up after an interrupted step). */
const DAMAGE: ReadonlySet<RecoveryAction['kind']> = new Set(['saved-tail', 'truncated-tail', 'rebuilt-index', 'ignored-snapshot']);

/**
 * `keel verify <path>`: reads everything, checks every checksum and index, and gives a
 * verdict. Exit 0 when clean, 1 when damage was found (a refused open, a repair recovery
 * would make, a record that fails its check), 2 when the path is not a keel store.
 */
export async function verify(path: string, options: { json?: boolean }): Promise<number> {
  const detected = detectStore(path);
  const verdict = await check(detected.backend, path, options.json !== true);
  if (options.json === true) printJson({ path, backend: detected.backend, ...verdict });
  else printFields({ path, backend: detected.backend, ...verdict });
  return verdict.clean ? EXIT_OK : EXIT_FAILED;
}

interface Verdict {
  clean: boolean;
  verdict: string;
  records?: number;
  recovery?: ReturnType<typeof describeRecovery>;
  damage?: { code: string; message: string; file?: string; offset?: number };
}

async function check(backend: Parameters<typeof openStore>[0], path: string, showProgress: boolean): Promise<Verdict> {
  let store;
  try {
    store = await openStore(backend, path, { readOnly: true });
  } catch (error) {
    if (isKeelError(error, 'KEEL_CORRUPT')) return damaged('open refuses the store', error);
    throw error;
  }
  const bar = progressBar(showProgress, 'verify');
  try {
    const { records } = await store.verify((done, total) => bar.update(done, total));
    bar.stop();
    const recovery = describeRecovery(store.recovery, 'would');
    const damage = store.recovery.actions.filter((action) => DAMAGE.has(action.kind));
    // Beside a live writer the newest file's tail and index are being written: what a
    // recovery would cut or rebuild there now is work in flight, not damage.
    if (damage.length > 0 && writerIsLive(path)) return { clean: true, verdict: `clean (a writer is live; its tail in flight: ${damage.map((action) => action.kind).join(', ')})`, records, recovery };
    if (damage.length > 0) return { clean: false, verdict: `damaged: recovery would ${damage.map((action) => action.kind).join(', ')}`, records, recovery };
    return { clean: true, verdict: repairsOf(store.recovery).length === 0 ? 'clean' : 'clean (recovery would tidy up after an interrupted step)', records, recovery };
  } catch (error) {
    bar.stop();
    if (isKeelError(error, 'KEEL_CORRUPT')) return damaged('a record fails its check', error);
    throw error;
  } finally {
    await store.close();
  }
}

function damaged(what: string, error: { code: string; message: string; path?: string; offset?: number }): Verdict {
  return { clean: false, verdict: `damaged: ${what}`, damage: { code: error.code, message: error.message, file: error.path, offset: error.offset } };
}
