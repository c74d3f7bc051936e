// The worker thread's side of WorkerS3RemoteStore: one S3RemoteStore, serving calls in
// the order they arrive (concurrently, as the main thread issued them).
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

import { S3RemoteStore } from '../s3-remote-store.js';
import { deserializeError, serializeError, type PaceRequest, type Request, type Response, type WorkerStoreData } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('worker-main runs only as a worker thread');

const data = workerData as WorkerStoreData;
lowerThisThread(data.lowPriority);
const store = new S3RemoteStore(data.options);
const aborts = new Map<number, AbortController>();
/** Paced puts' questions to the main thread that await their answer, by pace number. */
const paces = new Map<number, { resolve(): void; reject(error: unknown): void }>();
let nextPace = 0;

/**
 * A put's `beforeSend` on this side: asks the main thread's hook and waits for its answer,
 * or for `signal` (the put no longer needs the bytes), whichever comes first.
 */
function beforeSendOf(id: number): (bytes: number, signal: AbortSignal) => Promise<void> {
  return (bytes, signal) => new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const pace = nextPace++;
    const abort = () => {
      paces.delete(pace);
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    const settled = () => {
      paces.delete(pace);
      signal.removeEventListener('abort', abort);
    };
    paces.set(pace, {
      resolve: () => {
        settled();
        resolve();
      },
      reject: (error) => {
        settled();
        reject(error);
      },
    });
    port!.postMessage({ id, kind: 'pace', pace, bytes } satisfies PaceRequest);
  });
}

function answer(response: Response): void {
  // A Buffer's bytes move to the main thread rather than being copied.
  const value = response.ok ? response.value : undefined;
  port!.postMessage(response, value instanceof Uint8Array ? [value.buffer as ArrayBuffer] : []);
}

async function call(request: Extract<Request, { kind: 'call' }>): Promise<unknown> {
  const controller = request.hasSignal ? new AbortController() : undefined;
  if (controller !== undefined) aborts.set(request.id, controller);
  const signal = controller === undefined ? {} : { signal: controller.signal };
  const [first, second, third, fourth] = request.args as [string, unknown, unknown, unknown];
  try {
    switch (request.method) {
      case 'put': {
        const paced = request.paced ? { beforeSend: beforeSendOf(request.id) } : {};
        return await store.put(first, second as Uint8Array, { ...(third as object), ...signal, ...paced });
      }
      case 'get':
        return ownBuffer(await store.get(first, signal));
      case 'getRange':
        return ownBuffer(await store.getRange(first, second as number, third as number, { ...(fourth as object), ...signal }));
      case 'head':
        return await store.head(first, signal);
      case 'list':
        return await store.list(first, { ...(second as object), ...signal });
      case 'delete':
        return await store.delete(first, signal);
    }
  } finally {
    aborts.delete(request.id);
  }
}

/** A Buffer that owns its whole ArrayBuffer, so transferring it moves nothing else. */
function ownBuffer(bytes: Buffer): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

port.on('message', (request: Request) => {
  switch (request.kind) {
    case 'abort':
      aborts.get(request.id)?.abort(deserializeError(request.reason));
      return;
    case 'paced':
      if (request.error === undefined) paces.get(request.pace)?.resolve();
      else paces.get(request.pace)?.reject(deserializeError(request.error));
      return;
    case 'close':
      void store.close().then(() => answer({ id: request.id, ok: true, value: undefined, stats: store.stats() }));
      return;
    case 'call':
      call(request).then(
        (value) => answer({ id: request.id, ok: true, value, stats: store.stats() }),
        (error: unknown) => answer({ id: request.id, ok: false, error: serializeError(error), stats: store.stats() }),
      );
  }
});

/**
 * At the lowest priority the SDK's work (signing, hashing, sockets) runs on CPU time the
 * appending threads leave. Only on Linux: setpriority(PRIO_PROCESS, 0) sets the calling
 * thread's nice there, but the whole process's elsewhere. Raising one's own nice needs no
 * privilege; should it still fail, the worker runs at the process's priority.
 */
function lowerThisThread(lower: boolean): void {
  if (!lower || process.platform !== 'linux') return;
  try {
    setPriority(constants.priority.PRIORITY_LOW);
  } catch {
    // Left at the process's priority: slower offload under load is the only effect.
  }
}
