import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PART_BYTES_MIN } from './options.js';
import { S3RemoteStore } from './s3-remote-store.js';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodySha256: string;
  bodyBytes: number;
}

/**
 * Just enough of S3 to take puts and multipart uploads, recording each request: what the
 * store sends on the wire, which a real store's answers cannot show.
 */
function fakeS3(seen: SeenRequest[]): Server {
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = request.url ?? '';
      seen.push({ method: request.method ?? '', url, headers: request.headers, bodySha256: createHash('sha256').update(body).digest('hex'), bodyBytes: body.length });
      const xml = (text: string) => {
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(`<?xml version="1.0" encoding="UTF-8"?>${text}`);
      };
      if (request.method === 'POST' && url.includes('uploads')) return xml('<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>');
      if (request.method === 'POST') return xml('<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"e"</ETag></CompleteMultipartUploadResult>');
      response.writeHead(200, { etag: '"e"' });
      response.end();
    });
  });
}

describe('upload integrity', () => {
  const seen: SeenRequest[] = [];
  const server = fakeS3(seen);
  let store: S3RemoteStore;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    store = new S3RemoteStore({
      bucket: 'b', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, forcePathStyle: true, region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, partBytes: PART_BYTES_MIN, multipartThresholdBytes: PART_BYTES_MIN,
    });
  });

  afterAll(async () => {
    await store.close();
    await new Promise((resolve) => server.close(resolve));
  });

  // The store refuses a body whose SHA-256 is not the one signed (tested against Ceph in
  // test/ceph/checksum.test.ts), so every body must go out with its real hash signed:
  // never UNSIGNED-PAYLOAD, and no Content-MD5 hashed beside it.
  it('every object and part goes out with the SHA-256 of its bytes signed, and no Content-MD5', async () => {
    await store.put('small', randomBytes(100 * 1024), { unusedKey: true });
    await store.put('large', randomBytes(PART_BYTES_MIN + 1000), { unusedKey: true });
    const bodies = seen.filter((request) => request.method === 'PUT');
    expect(bodies.map((request) => request.bodyBytes)).toEqual(expect.arrayContaining([100 * 1024, PART_BYTES_MIN, 1000]));
    for (const request of bodies) {
      expect(request.headers['x-amz-content-sha256']).toBe(request.bodySha256);
      expect(request.headers.authorization).toContain('x-amz-content-sha256');
      expect(request.headers['content-md5']).toBeUndefined();
    }
  });
});
