import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTable, verifiedValueRun } from '../src/index.js';

const VALUE_BYTES_MAX = 64 * 1024 * 1024;

/** A sealed wal-kv record frame of puts at log offset 0 of generation 1, and its table. */
function tableWith(entries: Array<[string, Buffer]>): { table: KeyTable; log: Buffer } {
  const parts: Buffer[] = [Buffer.alloc(8)];
  parts[0]!.writeUInt32LE(entries.length);
  entries.forEach(([key, value], i) => {
    const header = Buffer.alloc(15);
    header.writeUInt8(1, 0);
    const keyBytes = Buffer.from(key, 'utf8');
    header.writeUInt16LE(keyBytes.length, 1);
    header.writeUInt32LE(value.length, 3);
    header.writeBigUInt64LE(BigInt(1 + i), 7);
    parts.push(header, keyBytes, Buffer.alloc(4), value);
  });
  const payload = Buffer.concat(parts);
  const log = Buffer.alloc(payload.length + 12);
  log.writeUInt32BE(0x574b5652, 0);
  log.writeUInt32LE(payload.length, 4);
  payload.copy(log, 8);
  const table = new KeyTable(40, VALUE_BYTES_MAX);
  expect(table.commitRecord(log, 0, log.length, 0, 1000, 1)).toBe(true);
  return { table, log };
}

/** The log cut into mapped segments of `segmentBytes` (the last one short), some left unmapped. */
function segmentsOf(log: Buffer, segmentBytes: number, unmapped: (index: number) => boolean): Array<Uint8Array | undefined> {
  const segments: Array<Uint8Array | undefined> = [];
  for (let start = 0, index = 0; start < log.length; start += segmentBytes, index++) segments[index] = unmapped(index) ? undefined : log.subarray(start, start + segmentBytes);
  return segments;
}

/** A table's bound reader over `segments`, reading into `into` (target 1), the key written as UTF-8. */
function boundTo(table: KeyTable, segments: Array<Uint8Array | undefined>, segmentBytes: number, into: Buffer) {
  const key = Buffer.alloc(256);
  const found = new Float64Array(6);
  table.bindReadKey(key, found);
  table.bindReadTarget(1, into);
  table.bindReadSegments(segments, segmentBytes);
  const reader = table.boundReader();
  return { into, found, read: (text: string, at: number) => reader(key.write(text, 0, 'utf8'), 1, at) };
}

describe('KeyTable reads', () => {
  it('readString / readBytes / the bound reader return the verified value when it lies in one mapped segment, else -3 with find\'s fields, -1 when absent, -2 for a bad key (property)', () => {
    const entry = fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.uint8Array({ maxLength: 300 }).map((value) => Buffer.from(value)));
    fc.assert(
      fc.property(fc.uniqueArray(entry, { minLength: 1, maxLength: 30, selector: ([key]) => key }), fc.integer({ min: 64, max: 2048 }), fc.integer({ min: 0, max: 400 }), fc.func(fc.boolean()), (entries, segmentBytes, room, unmapped) => {
        const { table, log } = tableWith(entries);
        const segments = segmentsOf(log, segmentBytes, (index) => unmapped(index));
        const into = Buffer.alloc(room + 8);
        const bound = boundTo(table, segments, segmentBytes, Buffer.alloc(room + 8));
        for (const [key, value] of entries) {
          const out = new Float64Array(6);
          const result = table.readString(key, segments, segmentBytes, into, 8, out);
          const bytesOut = new Float64Array(6);
          const keyBytes = Buffer.from(key, 'utf8');
          expect(table.readBytes(keyBytes, keyBytes.length, segments, segmentBytes, into, 8, bytesOut)).toBe(result);
          expect(bound.read(key, 8)).toBe(result);
          if (result >= 0) expect(bound.into.subarray(8, 8 + result)).toEqual(into.subarray(8, 8 + result));
          else expect(bound.found).toEqual(out);
          const found = new Float64Array(6);
          table.find(keyBytes, keyBytes.length, found);
          const [position] = found;
          const segment = segments[Math.floor(position! / segmentBytes)];
          const inOne = segment !== undefined && (position! % segmentBytes) + 4 + value.length <= segment.length;
          if (inOne && value.length <= room) {
            expect(result).toBe(value.length);
            expect(into.subarray(8, 8 + value.length)).toEqual(value);
          } else {
            expect(result).toBe(-3);
            expect(out).toEqual(found);
          }
        }
        expect(table.readString('absent', segments, segmentBytes, into, 0, new Float64Array(6))).toBe(-1);
        expect(table.readString('', segments, segmentBytes, into, 0, new Float64Array(6))).toBe(-2);
        expect(table.readString('x'.repeat(41), segments, segmentBytes, into, 0, new Float64Array(6))).toBe(-2);
        expect(bound.read('absent', 0)).toBe(-1);
        expect(bound.read('', 0)).toBe(-2);
        expect(bound.read('x'.repeat(41), 0)).toBe(-2);
      }),
      { numRuns: 100 },
    );
  });

  it('a value that fails its CRC is not read here (-3), nor by verifiedValueRun', () => {
    const { table, log } = tableWith([['k', Buffer.from('value bytes')]]);
    const out = new Float64Array(6);
    expect(table.readString('k', [log], 1 << 20, Buffer.alloc(64), 0, out)).toBe(11);
    log[log.indexOf('value') + 1]! ^= 1;
    expect(table.readString('k', [log], 1 << 20, Buffer.alloc(64), 0, out)).toBe(-3);
    const done = new Uint8Array(1);
    expect(verifiedValueRun([log], 1 << 20, out, 1, Buffer.alloc(64), done)).toBe(0);
    expect(done[0]).toBe(0);
  });

  it('the bound reader reads what is bound when it is called: segments and targets bound again, a damaged value refused', () => {
    const { table, log } = tableWith([['k', Buffer.from('value bytes')]]);
    const bound = boundTo(table, [undefined], 1 << 20, Buffer.alloc(64));
    expect(bound.read('k', 0)).toBe(-3);
    table.bindReadSegments([log], 1 << 20);
    expect(bound.read('k', 0)).toBe(11);
    const other = Buffer.alloc(32);
    table.bindReadTarget(0, other);
    const reader = table.boundReader();
    expect(reader(1, 0, 4)).toBe(11);
    expect(other.toString('latin1', 4, 15)).toBe('value bytes');
    expect(reader(1, 0, 30)).toBe(-3);
    log[log.indexOf('value') + 1]! ^= 1;
    expect(reader(1, 0, 4)).toBe(-3);
  });

  it('the bound reader refuses what it cannot use with a TypeError, and reads nothing before its arrays are bound', () => {
    const { table } = tableWith([['k', Buffer.from('v')]]);
    const reader = table.boundReader();
    expect(() => reader(1, 0, 0)).toThrow(/no key buffer is bound/);
    table.bindReadKey(Buffer.from('k'), new Float64Array(6));
    expect(() => reader(1, 0, 0)).toThrow(/no buffer is bound as this target/);
    table.bindReadTarget(0, Buffer.alloc(8));
    expect(() => reader(2, 0, 0)).toThrow(/keyLength is past the key buffer/);
    expect(() => reader(1, 0, 9)).toThrow(/at is past the end/);
    expect(() => reader(1, 2, 0)).toThrow(/no buffer is bound as this target/);
    expect(() => (reader as (...args: unknown[]) => number)(1, 'x', 0)).toThrow(TypeError);
    expect(() => (reader as (...args: unknown[]) => number)(1)).toThrow(TypeError);
    expect(() => table.bindReadTarget(2, Buffer.alloc(8))).toThrow(/target must be below 2/);
    expect(() => table.bindReadKey(Buffer.alloc(8), new Float64Array(5))).toThrow(/fewer than 6 fields/);
    expect(reader(1, 0, 0)).toBe(-3);
  });

  it('verifiedValueRun places the values of a range batch back to back and says which it read', () => {
    const entries: Array<[string, Buffer]> = Array.from({ length: 40 }, (_, i) => [`key${String(i).padStart(2, '0')}`, Buffer.alloc(i * 7, i)]);
    const { table, log } = tableWith(entries);
    const segmentBytes = 512;
    const segments = segmentsOf(log, segmentBytes, (index) => index === 2);
    const out = new Float64Array(40 * 6);
    const keys = Buffer.alloc(4096);
    const count = table.range(null, true, null, true, false, 40, out, keys);
    expect(count).toBe(40);
    const into = Buffer.alloc(3000);
    const done = new Uint8Array(40);
    const read = verifiedValueRun(segments, segmentBytes, out, count, into, done);
    let at = 0;
    let expectedRead = 0;
    for (let i = 0; i < count; i++) {
      const [position, length] = [out[i * 6]!, out[i * 6 + 1]!];
      const segment = segments[Math.floor(position / segmentBytes)];
      const readable = segment !== undefined && (position % segmentBytes) + 4 + length <= segment.length && at + length <= into.length;
      expect(done[i], `entry ${i}`).toBe(readable ? 1 : 0);
      if (readable) {
        expectedRead++;
        expect(into.subarray(at, at + length)).toEqual(entries[i]![1]);
      }
      at += length;
    }
    expect(read).toBe(expectedRead);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(count);
  });
});
