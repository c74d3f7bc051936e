/** A payload that names its sequence number and whose length varies with it. */
export function payloadFor(sequence: number): Uint8Array {
  const head = `payload ${sequence};`;
  return new TextEncoder().encode(head.padEnd(head.length + ((sequence * 37) % 300), String.fromCharCode(97 + (sequence % 26))));
}
