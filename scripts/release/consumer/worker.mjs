// argv: backend, store directory. The main thread and a worker thread each load the addon
// and use their own store at the same time.
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

import smoke from './smoke.cjs';

if (isMainThread) {
  const [backend, dir] = process.argv.slice(2);
  const worker = new Worker(new URL(import.meta.url), { workerData: { backend, dir: join(dir, 'worker') } });
  const workerDone = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
  });
  await Promise.all([smoke(backend, await import(`@keel/${backend}`), join(dir, 'main')), workerDone]);
  console.log(`worker_threads: @keel/${backend} ok in the main thread and a worker`);
} else {
  await smoke(workerData.backend, await import(`@keel/${workerData.backend}`), workerData.dir);
}
