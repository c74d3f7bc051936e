import { sha256 } from '@keel/native';
import { createHash, createHmac } from 'node:crypto';

/** Below this, hashing inline costs less than a hop to the threadpool and back. */
const INLINE_BYTES_MAX = 64 * 1024;

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The AWS SDK's SHA-256 (and HMAC-SHA-256, when given a secret) for request signing,
 * with large SHA-256 inputs hashed on the libuv threadpool by `@keel/native`. SigV4
 * hashes every upload's body; with the SDK's default hash, a segment's worth of bytes
 * held the JS thread, and the log's appends, for milliseconds per object. (WebCrypto's
 * digest also runs on the threadpool, but first copies its input on the JS thread, which
 * measured slower than hashing there.)
 *
 * `update` keeps references, not copies: the SDK hashes a request body it will send
 * unchanged, and the store never changes bytes while their upload is in flight.
 */
export class ThreadpoolSha256 {
  readonly #secret: Uint8Array | undefined;
  #chunks: Uint8Array[] = [];
  #length = 0;

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytesOf(secret);
  }

  update(chunk: SourceData): void {
    const bytes = bytesOf(chunk);
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  async digest(): Promise<Uint8Array> {
    const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    // HMACs sign short strings (SigV4's signing key and string to sign): always inline.
    if (this.#secret !== undefined) return createHmac('sha256', this.#secret).update(data).digest();
    if (data.length <= INLINE_BYTES_MAX) return createHash('sha256').update(data).digest();
    return Buffer.from(await sha256(data), 'hex');
  }

  reset(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}
