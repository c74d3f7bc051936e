const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type ValueStyle = 'auto' | 'hex';

/** Bytes as JSON can carry them: UTF-8 text when valid, else base64; hex when asked. */
export function encodeBytes(bytes: Uint8Array, style: ValueStyle): { encoding: 'utf8' | 'base64' | 'hex'; data: string } {
  if (style === 'hex') return { encoding: 'hex', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') };
  try {
    return { encoding: 'utf8', data: UTF8.decode(bytes) };
  } catch {
    return { encoding: 'base64', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}
