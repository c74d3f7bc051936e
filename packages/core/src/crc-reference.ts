/**
 * Table-driven CRC-32C and CRC-32 in plain TypeScript. Slow on purpose-free grounds: it
 * exists so the tests can cross-check the native (hardware) implementation against an
 * independent one, and so FaultFs-level tools can run without the addon.
 */
function makeTable(reversedPolynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ reversedPolynomial : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CASTAGNOLI_TABLE = makeTable(0x82f63b78);
const IEEE_TABLE = makeTable(0xedb88320);

function update(table: Uint32Array, data: Uint8Array, seed: number): number {
  let crc = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    crc = (table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  }
  return ~crc >>> 0;
}

/** CRC-32C (Castagnoli); `seed` is the CRC of the preceding bytes for a running CRC. */
export function crc32cReference(data: Uint8Array, seed = 0): number {
  return update(CASTAGNOLI_TABLE, data, seed);
}

/** CRC-32 (IEEE 802.3, as in zlib); `seed` as for crc32cReference. */
export function crc32Reference(data: Uint8Array, seed = 0): number {
  return update(IEEE_TABLE, data, seed);
}
