import {
  KeelError, Lifecycle, badArgument, describeType, type RemoteCallOptions, type RemoteListOptions, type RemoteListPage, type RemoteObject,
  type RemotePutOptions, type RemoteStore,
} from '@keel/core';
import { Worker } from 'node:worker_threads';

import { askBeforeSending, type BeforeSend } from './before-send.js';
import { normalizeOptions, type S3RemoteStoreOptions } from './options.js';
import { StagingBuffers } from './staging-buffers.js';
import type { S3RemoteStoreStats } from './s3-remote-store.js';
import {
  deserializeError, serializeError, type PaceRequest, type Request, type Response, type StoreMethod, type WorkerMessage, type WorkerStoreData,
} from './worker/protocol.js';

// Run from the TypeScript sources (the tests), the worker still has to be JavaScript: the build's.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? '../dist/worker/worker-main.js' : './worker/worker-main.js', import.meta.url);

/**
 * `threadPriority`: 'low' (the default) runs the worker thread at the lowest CPU priority
 * (nice 19, on Linux, where nice belongs to each thread), so the SDK's work takes CPU time
 * the appending threads leave rather than sharing it with them; 'normal' leaves it as the
 * process's. Elsewhere the option changes nothing (a priority there is the whole process's).
 */
export interface WorkerS3RemoteStoreOptions extends S3RemoteStoreOptions {
  threadPriority?: 'low' | 'normal';
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** A paced put's hook, asked by the worker before each request that sends bytes. */
  beforeSend?: BeforeSend;
  signal?: AbortSignal | undefined;
}

/**
 * An S3RemoteStore that runs on a worker thread of its own: the AWS SDK's per-request work
 * (serialising, signing, parsing responses, the sockets) then never runs on the thread
 * that appends to the log. Same contract, options and errors as S3RemoteStore, with these
 * differences: `credentials` must be static keys (a provider function cannot cross
 * threads; leave it out to use the SDK's default chain inside the worker); `put` copies the
 * bytes once, into shared memory kept from put to put, to hand them over; an abort's reason arrives as the `cause` of
 * `KEEL_ABORTED` as a copy, not the same object.
 */
export class WorkerS3RemoteStore implements RemoteStore {
  readonly location: string;
  readonly #worker: Worker;
  readonly #lifecycle: Lifecycle;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #stats: S3RemoteStoreStats = { requests: 0, retries: 0, bytesSent: 0, bytesReceived: 0 };
  #failure: Error | undefined;
  readonly #staging = new StagingBuffers();

  constructor({ threadPriority = 'low', ...options }: WorkerS3RemoteStoreOptions) {
    if (threadPriority !== 'low' && threadPriority !== 'normal') throw badArgument(`threadPriority must be 'low' or 'normal', got ${describeType(threadPriority)}`);
    if (typeof options.credentials === 'function') {
      throw badArgument('credentials must be static keys on a worker thread (a provider function cannot cross threads); leave them out to use the default chain there');
    }
    const normalized = normalizeOptions(options);
    this.location = `s3://${normalized.bucket}/${normalized.prefix}`;
    this.#lifecycle = new Lifecycle(`the remote store ${this.location}`);
    const data: WorkerStoreData = { options, lowPriority: threadPriority === 'low' };
    // None of the parent's flags: some do not apply to a worker (--input-type), and an export
    // condition sending packages to their TypeScript sources (as test runners set) must not
    // follow it into this built JavaScript.
    this.#worker = new Worker(WORKER_URL, { workerData: data, execArgv: [] });
    this.#worker.on('message', (message: WorkerMessage) => {
      if ('kind' in message) this.#pace(message);
      else this.#settle(message);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new KeelError('KEEL_CLOSED', `the worker thread of ${this.location} exited (code ${code})`)));
    // Idle, the worker does not keep the process alive; a call in flight does. (After the
    // listeners: adding a 'message' listener refs the worker again.)
    this.#worker.unref();
  }

  /** The store's counters as of the last answer from the worker. */
  stats(): S3RemoteStoreStats {
    return { ...this.#stats };
  }

  async put(key: string, bytes: Uint8Array, options: RemotePutOptions = {}): Promise<RemoteObject> {
    const putOptions = options.unusedKey === undefined ? {} : { unusedKey: options.unusedKey };
    const { signal, beforeSend } = options;
    // What is not bytes goes as it is, to be refused there.
    if (!(bytes instanceof Uint8Array)) return this.#call('put', [key, bytes, putOptions], { signal, beforeSend });
    // A copy of exactly the view, staged for the worker; its memory is reused once the worker answered.
    const staged = this.#staging.stage(bytes);
    try {
      return await this.#call('put', [key, staged.view, putOptions], { signal, beforeSend }, staged.transfer);
    } finally {
      staged.release();
    }
  }

  async get(key: string, options: RemoteCallOptions = {}): Promise<Buffer> {
    return asBuffer(await this.#call<Uint8Array>('get', [key], options));
  }

  async getRange(key: string, offset: number, length: number, options: RemoteCallOptions = {}): Promise<Buffer> {
    return asBuffer(await this.#call<Uint8Array>('getRange', [key, offset, length], options));
  }

  async head(key: string, options: RemoteCallOptions = {}): Promise<RemoteObject> {
    return this.#call('head', [key], options);
  }

  async list(prefix: string, options: RemoteListOptions = {}): Promise<RemoteListPage> {
    const { signal, ...rest } = options;
    return this.#call('list', [prefix, rest], { signal });
  }

  async delete(key: string, options: RemoteCallOptions = {}): Promise<void> {
    return this.#call('delete', [key], options);
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      if (this.#failure === undefined) await this.#send<void>({ id: this.#nextId++, kind: 'close' });
      await this.#worker.terminate();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #call<T>(method: StoreMethod, args: unknown[], options: Pick<RemotePutOptions, 'signal' | 'beforeSend'>, transfer?: ArrayBuffer): Promise<T> {
    this.#lifecycle.assertOpen();
    const { signal, beforeSend } = options;
    const id = this.#nextId++;
    const request: Request = { id, kind: 'call', method, args, hasSignal: signal !== undefined, paced: beforeSend !== undefined };
    const answered = this.#send<T>(request, transfer, beforeSend === undefined ? {} : { beforeSend, signal });
    if (signal === undefined) return answered;
    const abort = () => this.#worker.postMessage({ id, kind: 'abort', reason: serializeError(signal.reason) } satisfies Request);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    return answered.finally(() => signal.removeEventListener('abort', abort));
  }

  #send<T>(request: Request, transfer?: ArrayBuffer, pacing: Pick<Pending, 'beforeSend' | 'signal'> = {}): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(request.id, { resolve: resolve as (value: unknown) => void, reject, ...pacing });
      this.#worker.postMessage(request, transfer === undefined ? [] : [transfer]);
    });
  }

  #settle(response: Response): void {
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    if (this.#pending.size === 0) this.#worker.unref();
    this.#stats = response.stats;
    if (response.ok) pending.resolve(response.value);
    else pending.reject(deserializeError(response.error));
  }

  /** A paced put's question from the worker: its hook is asked, and the answer goes back. */
  #pace(question: PaceRequest): void {
    const pending = this.#pending.get(question.id);
    const answer = (error?: unknown) => {
      const request: Request = { id: question.id, kind: 'paced', pace: question.pace, ...(error === undefined ? {} : { error: serializeError(error) }) };
      this.#worker.postMessage(request);
    };
    if (pending?.beforeSend === undefined) {
      answer(new Error(`call ${question.id} has no beforeSend`));
      return;
    }
    // Asked as the worker's store would: a rejection because the caller aborted is KEEL_ABORTED.
    askBeforeSending(pending.beforeSend, question.bytes, pending.signal, pending.signal, `put ${this.location}`).then(() => answer(), answer);
  }

  /** The worker is gone: every call in flight, and every later one, fails with why. */
  #fail(error: Error): void {
    this.#failure ??= isClosed(error) ? error : new KeelError('KEEL_REMOTE_UNAVAILABLE', `the worker thread of ${this.location} failed: ${error.message}`, { cause: error });
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
  }
}

function isClosed(error: Error): boolean {
  return error instanceof KeelError && error.code === 'KEEL_CLOSED';
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
