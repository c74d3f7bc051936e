// What needs no object store, from an installed @keel/remote-s3: it loads with import and
// with require() (one module either way), refuses a bad key before sending anything, and a
// store that nobody answers for is KEEL_REMOTE_UNAVAILABLE within its bounds.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

const require = createRequire(import.meta.url);
const { S3RemoteStore } = await import('@keel/remote-s3');
assert.equal(require('@keel/remote-s3').S3RemoteStore, S3RemoteStore);

// A port that was free a moment ago: connections to it are refused.
const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const store = new S3RemoteStore({
  bucket: 'nobody',
  endpoint: `http://127.0.0.1:${port}`,
  forcePathStyle: true,
  credentials: { accessKeyId: 'none', secretAccessKey: 'none' },
  retryTimeoutMs: 500,
});
await assert.rejects(store.put('', new Uint8Array(1)), { code: 'KEEL_BAD_ARGUMENT' });
await assert.rejects(store.head('segment.log'), { code: 'KEEL_REMOTE_UNAVAILABLE' });
await store.close();
await assert.rejects(store.head('segment.log'), { code: 'KEEL_CLOSED' });
console.log('remote-s3: ok');
