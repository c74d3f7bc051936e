import { KeelError } from '@keel/core';
import type { Readable } from 'node:stream';

function isReadable(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).destroy === 'function'
    && typeof (body as Readable)[Symbol.asyncIterator] === 'function';
}

/** Releases a response body that will not be read, so its connection is not left waiting. */
export function discardBody(body: unknown): void {
  if (isReadable(body)) body.destroy();
}

/**
 * Reads a response body of exactly `bytes` bytes into one buffer allocated up front (the
 * caller has already bounded `bytes`). More bytes than that are refused as KEEL_CORRUPT;
 * a body that ends early is a broken connection, reported as a plain (transient) error.
 */
export async function readBody(body: unknown, bytes: number, path: string): Promise<Buffer> {
  if (!isReadable(body)) throw new KeelError('KEEL_REMOTE_REFUSED', `${path}: the store's answer has no readable body`, { path });
  const target = Buffer.allocUnsafe(bytes);
  let filled = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (filled + chunk.length > bytes) {
        throw new KeelError('KEEL_CORRUPT', `${path}: the store sent more than the ${bytes} bytes it announced`, { path });
      }
      target.set(chunk, filled);
      filled += chunk.length;
    }
  } finally {
    body.destroy();
  }
  if (filled !== bytes) throw new Error(`${path}: the response ended after ${filled} of ${bytes} bytes`);
  return target;
}
