/** The value and timestamp of the record with this offset, so a reader can check any record on its own. */
export function valueFor(offset: number): Uint8Array {
  const length = (offset * 7919) % 300;
  const value = new Uint8Array(length + 8);
  new DataView(value.buffer).setFloat64(0, offset, true);
  for (let index = 8; index < value.length; index++) value[index] = (offset + index) % 251;
  return value;
}

export function timestampFor(offset: number): number {
  return 1_700_000_000_000 + offset * 3 - (offset % 5 === 0 ? 50 : 0);
}
