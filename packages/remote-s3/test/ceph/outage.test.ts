// The store's gateway goes away (killed: connections refused) or hangs (SIGSTOP: connections
// accepted, nothing answered). Calls must fail with KEEL_REMOTE_UNAVAILABLE within the
// store's bounds, and work again once the gateway is back. Each test runs its own radosgw
// on the shared cluster, so no other test file loses its gateway.
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startGateway, type Gateway } from '../../../../scripts/ceph/cluster.mjs';
import { S3RemoteStore } from '../../src/index.js';
import { clusterEndpoint, createBucket, openStore, rawClient } from './s3.js';

const MIB = 1024 * 1024;
const CONNECT_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1_000;
const RETRY_TIMEOUT_MS = 2_000;
/** A call that gets no answer must fail within its retry time plus one attempt's timeouts. */
const FAILURE_BOUND_MS = RETRY_TIMEOUT_MS + CONNECT_TIMEOUT_MS + REQUEST_TIMEOUT_MS;
/** Scheduling slack on a loaded two-core machine. */
const SLACK_MS = 1_500;

const client = rawClient();
let bucket: string;
let gateway: Gateway;

beforeAll(async () => {
  bucket = await createBucket(client);
  gateway = await startGateway();
});

afterEach(async () => {
  // Leave the gateway running for the next test whatever this one did to it.
  try {
    gateway.resume();
  } catch {
    // it was killed, not paused
  }
  await gateway.start();
});

afterAll(async () => {
  await gateway.kill();
  client.destroy();
});

function openGatewayStore(options: Partial<ConstructorParameters<typeof S3RemoteStore>[0]> = {}): S3RemoteStore {
  return openStore(bucket, {
    prefix: 'outage/',
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    retryTimeoutMs: RETRY_TIMEOUT_MS,
    attemptsMax: 100,
    ...options,
  }, { ...clusterEndpoint(), endpoint: gateway.endpoint });
}

/** Runs `call`, expecting KEEL_REMOTE_UNAVAILABLE within FAILURE_BOUND_MS; returns how long it took. */
async function expectUnavailable(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await expect(call()).rejects.toMatchObject({ code: 'KEEL_REMOTE_UNAVAILABLE' });
  const elapsed = performance.now() - started;
  expect(elapsed).toBeLessThan(FAILURE_BOUND_MS + SLACK_MS);
  return elapsed;
}

async function waitFor(what: string, deadlineMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('outage', () => {
  it('a killed gateway: every call fails with KEEL_REMOTE_UNAVAILABLE in bounded time, and works again after a restart', async () => {
    await using store = openGatewayStore();
    const bytes = randomBytes(4096);
    await store.put('before', bytes);

    await gateway.kill();
    for (const call of [
      () => store.get('before'),
      () => store.getRange('before', 0, 10),
      () => store.head('before'),
      () => store.put('during', bytes),
      () => store.list(''),
      () => store.delete('before'),
    ]) {
      await expectUnavailable(call);
    }
    expect(store.stats().retries).toBeGreaterThan(6);

    await gateway.start();
    // The same store, whose pooled connections all died with the old gateway.
    expect((await store.get('before')).equals(bytes)).toBe(true);
    await store.put('after', bytes);
    expect((await store.list('')).entries.map((entry) => entry.key)).toEqual(['after', 'before']);
  });

  it('a hung gateway: calls time out with KEEL_REMOTE_UNAVAILABLE, and work again once it answers', async () => {
    await using store = openGatewayStore();
    const bytes = randomBytes(4096);
    await store.put('hung', bytes);

    gateway.pause();
    const elapsed = await expectUnavailable(() => store.get('hung'));
    // It waited for answers (the request timeout), not just for refused connections.
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    await expectUnavailable(() => store.put('hung-2', bytes));

    gateway.resume();
    expect((await store.get('hung')).equals(bytes)).toBe(true);
    await store.put('hung-2', bytes);
  });

  it('retries outlast a short outage: a call started while the gateway is down succeeds once it is back', async () => {
    await using store = openGatewayStore({ retryTimeoutMs: 60_000, backoffMaxMs: 200 });
    const bytes = randomBytes(4096);
    await gateway.kill();
    const put = store.put('patient', bytes);
    await waitFor('a retry', 10_000, () => store.stats().retries >= 2);
    await gateway.start();
    expect(await put).toMatchObject({ bytes: 4096 });
    expect((await store.get('patient')).equals(bytes)).toBe(true);
  });

  it('an outage in the middle of a multipart upload fails the put, leaves no object and no upload, and a later put succeeds', async () => {
    await using store = openGatewayStore({ partBytes: 5 * MIB, multipartThresholdBytes: 5 * MIB, partConcurrency: 1 });
    const bytes = randomBytes(40 * MIB);
    const put = store.put('interrupted', bytes);
    const outcome = put.then(() => 'resolved', (error: unknown) => error);
    // The upload is created and its first part is on its way when the gateway dies.
    await waitFor('the first part', 30_000, () => store.stats().bytesSent >= 5 * MIB);
    await gateway.kill();
    expect(await outcome).toMatchObject({ code: 'KEEL_REMOTE_UNAVAILABLE' });

    await gateway.start();
    await expect(store.head('interrupted')).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    await store.put('interrupted', bytes);
    expect((await store.get('interrupted')).equals(bytes)).toBe(true);
    // The failed upload could not be aborted while the gateway was down: its parts are
    // left for the bucket's lifecycle rules, and only it is left.
    const uploads = (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
    expect(uploads.length).toBeLessThanOrEqual(1);
  });

  it('an abort stops a call that is waiting out an outage with KEEL_ABORTED', async () => {
    await using store = openGatewayStore({ retryTimeoutMs: 60_000 });
    await gateway.kill();
    const controller = new AbortController();
    const started = performance.now();
    const get = store.get('anything', { signal: controller.signal });
    await waitFor('a retry', 10_000, () => store.stats().retries >= 1);
    controller.abort(new Error('shutting down'));
    await expect(get).rejects.toMatchObject({ code: 'KEEL_ABORTED' });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
