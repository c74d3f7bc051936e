import { detectStore } from '../detect.js';
import { printFields, printJson } from '../output.js';
import { progressBar } from '../progress.js';
import { openStore } from '../stores.js';

/**
 * `keel backup <path> <target>`: an online backup through the store's own `backup()`,
 * from a read-only open, so it runs beside a live writer and never blocks it. The copy
 * holds everything on disk when the backup began, is written under `<target>.partial`,
 * made durable, renamed into place and read back in full before this returns. On a
 * terminal a progress bar on stderr follows the copy (never with `--json`).
 */
export async function backup(path: string, target: string, options: { json?: boolean }): Promise<number> {
  const detected = detectStore(path);
  const store = await openStore(detected.backend, path, { readOnly: true });
  const started = performance.now();
  const bar = progressBar(options.json !== true, 'backup');
  try {
    process.stderr.write(options.json === true || process.stderr.isTTY !== true ? '' : `backing up ${path} to ${target}…\n`);
    const report = await store.backup(target, { onProgress: ({ copiedBytes, totalBytes }) => bar.update(copiedBytes, totalBytes) });
    bar.stop();
    const result = { path, backend: detected.backend, ...report, verified: true, ms: Math.round(performance.now() - started) };
    if (options.json === true) printJson(result);
    else printFields(result);
  } finally {
    bar.stop();
    await store.close();
  }
  return 0;
}
