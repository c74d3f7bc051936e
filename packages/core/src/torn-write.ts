/**
 * Whether the first bytes of a file are what a first write of ours can leave after a
 * crash: each of the first `signature.length` bytes (the bytes every such file starts
 * with, known before reading) is either the signature's byte or zero, because a torn
 * write keeps any subset of its pieces and the rest reads as a hole. Anything else was
 * not written by this store, and recovery must not touch it.
 */
export function startsAsOurs(head: Uint8Array, signature: Uint8Array): boolean {
  const checked = Math.min(head.length, signature.length);
  for (let index = 0; index < checked; index++) if (head[index] !== 0 && head[index] !== signature[index]) return false;
  return true;
}
