// Writes fsys-0.9.bin from the fsys 0.9 journal frame spec, by hand, without keel's code:
//   magic   0x46535901, u32 big-endian ("FSY\x01")
//   length  u32 little-endian, at most 2^28 - 1
//   payload `length` bytes
//   crc     CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor
//           0xFFFFFFFF), u32 little-endian, over magic + length + payload
// Run it with `node make-fsys-0.9.mjs` from this directory; the output is committed.
import { writeFileSync } from 'node:fs';

function crc32cBitwise(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// The published CRC-32C check value: the spec's polynomial, not a guess.
if (crc32cBitwise(Buffer.from('123456789')) !== 0xe3069283) throw new Error('CRC-32C self-check failed');

function frame(payload) {
  const header = [0x46, 0x53, 0x59, 0x01, payload.length & 0xff, (payload.length >>> 8) & 0xff, (payload.length >>> 16) & 0xff, payload.length >>> 24];
  const covered = [...header, ...payload];
  const crc = crc32cBitwise(covered);
  return [...covered, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24];
}

const PAYLOADS = [
  [...Buffer.from('hello')],
  [],
  [...Buffer.from('fsys 0.9 journal')],
  Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff),
];

const bytes = Buffer.from(PAYLOADS.flatMap(frame));
writeFileSync(new URL('./fsys-0.9.bin', import.meta.url), bytes);
console.log(bytes.length, 'bytes');
console.log(bytes.subarray(0, 64).toString('hex').replace(/(..)/g, '$1 '));
