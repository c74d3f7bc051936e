import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal, JournalReader } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

/**
 * vectors/fsys-0.9.bin was written by vectors/make-fsys-0.9.mjs straight from the fsys
 * 0.9 frame spec (its own bitwise CRC-32C, checked against the published check value),
 * not by keel's encoder. Its first two frames, byte by byte:
 *
 *   46 53 59 01  05 00 00 00  68 65 6c 6c 6f  2f 8b 22 17   magic, length 5, "hello", crc
 *   46 53 59 01  00 00 00 00                  60 fe 8b 02   magic, length 0, crc
 */
const VECTOR_PATH = new URL('./vectors/fsys-0.9.bin', import.meta.url);
const PAYLOADS: Uint8Array[] = [
  new TextEncoder().encode('hello'),
  new Uint8Array(0),
  new TextEncoder().encode('fsys 0.9 journal'),
  Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff),
];
const tempDir = useTempDir();

test('the hand-written fsys 0.9 vector starts with the bytes the spec gives', () => {
  const bytes = readFileSync(VECTOR_PATH);
  expect(bytes.subarray(0, 29).toString('hex')).toBe('4653590105000000' + '68656c6c6f' + '2f8b2217' + '4653590100000000' + '60fe8b02');
  expect(bytes.length).toBe(PAYLOADS.reduce((sum, payload) => sum + payload.length + 12, 0));
});

test('the reader reads the fsys 0.9 vector back record by record', async () => {
  using reader = await JournalReader.open(new URL(VECTOR_PATH).pathname);
  const records = [...reader.records()];
  expect(records.map((record) => [...record.payload])).toEqual(PAYLOADS.map((payload) => [...payload]));
  expect(records.map((record) => record.lsn)).toEqual([17, 29, 57, 369]);
  expect(reader.tailState).toBe('clean-end');
});

test('the journal writes exactly the bytes of the fsys 0.9 vector', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
  journal.append(PAYLOADS[0]!);
  journal.appendBatch(PAYLOADS.slice(1));
  await journal.close();
  expect(readFileSync(path).equals(readFileSync(VECTOR_PATH))).toBe(true);
});
