import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WorkerS3RemoteStore } from '../../src/index.js';
import { clusterEndpoint, createBucket, openStore, rawClient } from './s3.js';

const client = rawClient();
let bucket: string;

beforeAll(async () => {
  bucket = await createBucket(client);
});

afterAll(() => client.destroy());

describe('WorkerS3RemoteStore', () => {
  it('moves a multi-megabyte object both ways, in parts, and leaves the caller its bytes', async () => {
    await using store = openStore(bucket, { partBytes: 5 * 1024 * 1024, multipartThresholdBytes: 5 * 1024 * 1024 }, clusterEndpoint(), WorkerS3RemoteStore);
    const bytes = randomBytes(11 * 1024 * 1024);
    const view = bytes.subarray(1024);
    await store.put('big', view);
    expect(bytes.length).toBe(11 * 1024 * 1024); // not detached by the hand-over
    expect((await store.get('big')).equals(view)).toBe(true);
    expect((await store.getRange('big', 5, 10)).equals(view.subarray(5, 15))).toBe(true);
    expect(store.stats().bytesSent).toBe(view.length);
  });

  it('refuses a credentials provider, which cannot cross threads', () => {
    const provider = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    expect(() => new WorkerS3RemoteStore({ bucket, credentials: provider })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  });

  it('runs its thread at the lowest CPU priority unless asked for the normal one', () => {
    const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const { endpoint, region, accessKeyId, secretAccessKey } = clusterEndpoint();
    // Counts this process's threads at nice 19 (field 19 of each task's stat) after one call.
    const lowThreads = (threadPriority: string) => {
      const script = `
        const { readdirSync, readFileSync } = await import('node:fs');
        const { WorkerS3RemoteStore } = await import(${JSON.stringify(entry)});
        const options = ${JSON.stringify({ bucket, endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })};
        const store = new WorkerS3RemoteStore({ ...options, threadPriority: ${JSON.stringify(threadPriority)} });
        await store.put('priority-' + ${JSON.stringify(threadPriority)}, new Uint8Array([1]));
        const nice = (tid) => { const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'latin1'); return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); };
        console.log(readdirSync('/proc/self/task').filter((tid) => nice(tid) === 19).length);
        await store.close();`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(child.status, child.stderr).toBe(0);
      return Number(child.stdout.trim());
    };
    expect(lowThreads('low')).toBeGreaterThanOrEqual(1);
    expect(lowThreads('normal')).toBe(0);
    expect(() => new WorkerS3RemoteStore({ bucket, threadPriority: 'high' as 'low' })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  });

  it('does not keep an idle process alive, used or not, even left open', () => {
    const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const { endpoint, region, accessKeyId, secretAccessKey } = clusterEndpoint();
    const script = `
      const { WorkerS3RemoteStore } = await import(${JSON.stringify(entry)});
      const options = ${JSON.stringify({ bucket, endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })};
      const used = new WorkerS3RemoteStore(options);
      const unused = new WorkerS3RemoteStore(options);
      await used.put('left-open', new Uint8Array([1, 2, 3]));
      console.log('put');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    // A worker that held the process would leave it running until the timeout killed it.
    expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim() }).toEqual({ status: 0, signal: null, stdout: 'put' });
  });
});
