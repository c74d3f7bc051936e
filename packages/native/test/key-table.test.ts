import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTable, crc32c } from '../src/index.js';

const KEY_BYTES_MAX = 0xffff;
const VALUE_BYTES_MAX = 64 * 1024 * 1024;

/** The place a record frame at `frameOffset` of log generation `generation` carries: CRC-32C of offset u64 and generation u32. */
function placeOf(frameOffset: number, generation: number): number {
  const bytes = Buffer.alloc(12);
  bytes.writeBigUInt64LE(BigInt(frameOffset), 0);
  bytes.writeUInt32LE(generation, 8);
  return crc32c(bytes);
}

/** A wal-kv record frame of puts (seqs from `firstSeq`) with its place and CRC slots left empty. */
function putFrame(entries: Array<[string, string]>, firstSeq: number): Buffer {
  return recordFrame(entries, firstSeq);
}

/** `putFrame` for keys and values given as bytes (any UTF-8). */
function putBytesFrame(entries: Array<[Buffer, Buffer]>, firstSeq: number): Buffer {
  const latin1 = entries.map(([key, value]) => [key.toString('latin1'), value.toString('latin1')] as [string, string]);
  return putFrame(latin1, firstSeq);
}

/** A record frame of puts (`value` a string) and deletes (`value` null), seqs from `firstSeq`, place and CRC slots empty. */
function recordFrame(operations: Array<[string, string | null]>, firstSeq: number): Buffer {
  const parts: Buffer[] = [Buffer.alloc(8)];
  parts[0]!.writeUInt32LE(operations.length);
  operations.forEach(([key, value], i) => {
    const header = Buffer.alloc(15);
    header.writeUInt8(value === null ? 2 : 1, 0);
    header.writeUInt16LE(key.length, 1);
    header.writeUInt32LE(value?.length ?? 0, 3);
    header.writeBigUInt64LE(BigInt(firstSeq + i), 7);
    parts.push(header, Buffer.from(key, 'latin1'));
    if (value !== null) parts.push(Buffer.alloc(4), Buffer.from(value, 'latin1'));
  });
  const payload = Buffer.concat(parts);
  const frame = Buffer.alloc(payload.length + 12);
  frame.writeUInt32BE(0x574b5652, 0);
  frame.writeUInt32LE(payload.length, 4);
  payload.copy(frame, 8);
  return frame;
}

/** Every entry of `table` in key order: key, then the six fields `find` reports. */
function entriesOf(table: KeyTable): Array<[string, number[]]> {
  const out = new Float64Array(6 * 64);
  const keys = Buffer.alloc(64 * 16);
  const count = table.range(null, true, null, true, false, 64, out, keys);
  const entries: Array<[string, number[]]> = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const length = out[6 * i + 4]!;
    entries.push([keys.toString('latin1', at, at + length), Array.from(out.subarray(6 * i, 6 * i + 6))]);
    at += length;
  }
  return entries;
}

describe('KeyTable', () => {
  it('seals and applies a record in one call; find returns the fields and the key CRC', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame([['b', 'two'], ['a', 'one']], 1);
    expect(table.commitRecord(frame, 0, frame.length, 1000, 10, 7)).toBe(true);
    expect(crc32c(frame.subarray(0, frame.length - 4))).toBe(frame.readUInt32LE(frame.length - 4));
    expect(frame.readUInt32LE(12)).toBe(placeOf(1000, 7));
    const out = new Float64Array(6);
    expect(table.find(Buffer.from('a'), 1, out)).toBeGreaterThanOrEqual(0);
    const [position, length, seq, keyCrc, keyLength, inPreviousLog] = out;
    expect([length, seq, keyCrc, keyLength, inPreviousLog]).toEqual([3, 2, crc32c(Buffer.from('a')), 1, 0]);
    // The value CRC at `position` covers the key (seed) and the value.
    const at = position! - 1000;
    expect(frame.readUInt32LE(at)).toBe(crc32c(frame.subarray(at + 4, at + 4 + 3), keyCrc));
    expect(table.find(Buffer.from('zz'), 2, out)).toBe(-1);
  });

  it('findString finds a string key by its UTF-8 bytes exactly as find does, and says -2 for an empty or too long key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 20, selector: (key) => Buffer.from(key, 'utf8').toString('hex') }), fc.string({ unit: 'binary', maxLength: 12 }), (keys, probe) => {
        const table = new KeyTable(40, VALUE_BYTES_MAX);
        const bytes = keys.map((key) => Buffer.from(key, 'utf8'));
        const frame = putBytesFrame(bytes.map((key) => [key, Buffer.from('v')]), 1);
        expect(table.commitRecord(frame, 0, frame.length, 0, 100, 1)).toBe(true);
        for (const key of [...keys, probe]) {
          const utf8 = Buffer.from(key, 'utf8');
          const viaString = new Float64Array(6);
          const viaBytes = new Float64Array(6);
          const slot = table.findString(key, viaString);
          if (utf8.length === 0 || utf8.length > 40) {
            expect(slot).toBe(-2);
            continue;
          }
          expect(slot).toBe(table.find(utf8, utf8.length, viaBytes));
          expect(viaString).toEqual(viaBytes);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('after switchLog reports every value in the previous log until relocate moves it (only from where it was) or a write replaces it', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame([['a', '1'], ['b', '2'], ['c', '3']], 1);
    table.commitRecord(frame, 0, frame.length, 100, 10, 1);
    const out = new Float64Array(6);
    const slotOf = (key: string): number => table.find(Buffer.from(key), key.length, out);
    const [a, b, c] = ['a', 'b', 'c'].map(slotOf) as [number, number, number];
    const positionOf = (key: string): number => (slotOf(key), out[0]!);
    const [pa, pb, pc] = [positionOf('a'), positionOf('b'), positionOf('c')];
    table.switchLog();
    slotOf('a');
    expect(out[5]).toBe(1);
    const rewrite = putFrame([['b', '22']], 4);
    table.commitRecord(rewrite, 0, rewrite.length, 40, 10, 2);
    slotOf('b');
    expect(out[5]).toBe(0);
    const moved = table.relocate(new Uint32Array([a, b, c]), new Float64Array([pa, pb, pc + 1]), new Float64Array([1000, 2000, 3000]));
    expect(moved).toBe(1);
    expect([positionOf('a'), out[5]]).toEqual([1000, 0]);
    expect(positionOf('b')).not.toBe(2000);
    expect([positionOf('c'), out[5]]).toEqual([pc, 1]);
    const ranged = new Float64Array(6 * 10);
    expect(table.range(null, true, null, true, false, 10, ranged, Buffer.alloc(100))).toBe(3);
    expect([ranged[5], ranged[11], ranged[17]]).toEqual([0, 0, 1]);
  });

  it('applies batches of puts and deletes as a model map would, and reports each entry a batch replaces that was written at or before captureSeq, as it was before', () => {
    const operation = fc.tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('').map((c) => `key-${c}`)), fc.option(fc.string({ unit: 'binary-ascii', maxLength: 6 }), { freq: 4 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(operation, { minLength: 1, maxLength: 40 }), fc.nat(200)), { minLength: 1, maxLength: 12 }), (batches) => {
        const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
        const model = new Map<string, { seq: number; length: number; position: number }>();
        const out = new Float64Array(6);
        let seq = 1;
        let frameOffset = 100;
        for (const [operations, captureBack] of batches) {
          const captureSeq = Math.max(0, seq - 1 - captureBack);
          const frame = recordFrame(operations, seq);
          const base = 37;
          const buffer = Buffer.alloc(base + frame.length);
          frame.copy(buffer, base);
          const captured = new Float64Array(1 + 7 * operations.length).fill(-1);
          // What the model expects to be reported, and its state after.
          const expected: number[][] = [];
          let offset = base + 8 + 8;
          for (const [i, [key, value]] of operations.entries()) {
            const keyAt = offset + 15;
            const before = model.get(key);
            if (captureSeq > 0 && before !== undefined && before.seq <= captureSeq) expected.push([keyAt, before.position, before.length, before.seq, crc32c(Buffer.from(key)), key.length, 0]);
            if (value === null) model.delete(key);
            else model.set(key, { seq: seq + i, length: value.length, position: frameOffset + (keyAt + key.length - base) });
            offset = keyAt + key.length + (value === null ? 0 : 4 + value.length);
          }
          expect(table.commitRecord(buffer, base, buffer.length, frameOffset, 1000, 1, captureSeq, captured)).toBe(true);
          expect(captured[0]).toBe(expected.length);
          expect(Array.from({ length: expected.length }, (_, i) => Array.from(captured.subarray(1 + 7 * i, 8 + 7 * i)))).toEqual(expected);
          seq += operations.length;
          frameOffset += frame.length;
          expect(table.size).toBe(model.size);
          for (const [key, entry] of model) {
            expect(table.find(Buffer.from(key), key.length, out)).toBeGreaterThanOrEqual(0);
            expect([out[0], out[1], out[2]]).toEqual([entry.position, entry.length, entry.seq]);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('sealRecord then applySealedRecord writes the bytes and leaves the table that commitRecord does; sealing alone changes no entry', () => {
    const operation = fc.tuple(fc.constantFrom(...'abcdefghij'.split('').map((c) => `key-${c}`)), fc.option(fc.string({ unit: 'binary-ascii', maxLength: 6 }), { freq: 3 }));
    fc.assert(
      fc.property(fc.array(fc.array(operation, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 12 }), (batches, keysMax) => {
        const committed = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
        const split = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
        let seq = 1;
        let frameOffset = 64;
        for (const operations of batches) {
          const base = 11;
          const prefix = Buffer.alloc(base);
          const frame = recordFrame(operations, seq);
          const one = Buffer.concat([prefix, frame]);
          const two = Buffer.concat([prefix, frame]);
          const before = entriesOf(split);
          const sealed = split.sealRecord(two, base, two.length, frameOffset, keysMax, 3);
          expect(committed.commitRecord(one, base, one.length, frameOffset, keysMax, 3)).toBe(sealed);
          expect(two).toEqual(one);
          expect(entriesOf(split)).toEqual(before);
          if (!sealed) continue;
          split.applySealedRecord(two, base, two.length, frameOffset);
          expect(entriesOf(split)).toEqual(entriesOf(committed));
          expect([split.size, split.deadBytes]).toEqual([committed.size, committed.deadBytes]);
          seq += operations.length;
          frameOffset += frame.length;
        }
      }),
      { numRuns: 150 },
    );
  });

  it('applySealedRecord refuses a frame range outside its buffer or a frame whose length does not match its header', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame([['a', '1']], 1);
    expect(table.sealRecord(frame, 0, frame.length, 0, 10, 1)).toBe(true);
    expect(() => table.applySealedRecord(frame, 0, frame.length + 1, 0)).toThrow();
    expect(() => table.applySealedRecord(frame, 0, frame.length - 1, 0)).toThrow();
    expect(table.size).toBe(0);
  });

  it('refuses, changing nothing, a record that would pass keysMax', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame([['a', '1'], ['b', '2'], ['c', '3']], 1);
    expect(table.commitRecord(frame, 0, frame.length, 100, 2, 1)).toBe(false);
    expect(table.size).toBe(0);
    expect(frame.readUInt32LE(frame.length - 4)).toBe(0);
  });

  it('walks ranges in key byte order, both ways, after writes', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame(['d', 'a', 'c', 'b', 'e'].map((key) => [key, key]), 1);
    table.commitRecord(frame, 0, frame.length, 100, 100, 1);
    const out = new Float64Array(6 * 10);
    const keys = Buffer.alloc(100);
    expect(table.range(Buffer.from('b'), false, Buffer.from('e'), true, true, 10, out, keys)).toBe(3);
    expect(keys.subarray(0, 3).toString()).toBe('edc');
  });

  it('walks the ordered view as last brought up to date when catchUp is false: removed keys skipped, added keys missing', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const first = putFrame(['a', 'b', 'c'].map((key) => [key, key]), 1);
    table.commitRecord(first, 0, first.length, 100, 100, 1);
    const out = new Float64Array(6 * 10);
    const keys = Buffer.alloc(100);
    expect(table.range(null, true, null, true, false, 10, out, keys)).toBe(3);
    // Remove b (a delete record) and add d, then walk without catching up, then with.
    const payload = Buffer.alloc(8 + 15 + 1);
    payload.writeUInt32LE(1, 0);
    payload.writeUInt32LE(placeOf(200, 1), 4);
    payload.writeUInt8(2, 8);
    payload.writeUInt16LE(1, 9);
    payload.writeBigUInt64LE(4n, 15);
    payload.write('b', 23, 'latin1');
    table.replayRecord(payload, 208, 3, 1);
    const added = putFrame([['d', 'd']], 5);
    table.commitRecord(added, 0, added.length, 300, 100, 1);
    expect(table.range(null, true, null, true, false, 10, out, keys, false)).toBe(2);
    expect(keys.subarray(0, 2).toString()).toBe('ac');
    expect(table.range(null, true, null, true, false, 10, out, keys)).toBe(3);
    expect(keys.subarray(0, 3).toString()).toBe('acd');
  });

  it('livePuts names exactly the puts of a record that still hold their key, as a model of the last write per key says (property)', () => {
    const operation = fc.tuple(fc.constantFrom('a', 'b', 'c', 'dd', 'e'), fc.option(fc.string({ maxLength: 6 }), { nil: null }));
    fc.assert(
      fc.property(fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }), (records) => {
        const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
        // Per key, the record and operation of its last put, or undefined once deleted.
        const last = new Map<string, [number, number] | undefined>();
        const payloads: Array<{ payload: Buffer; offset: number }> = [];
        let frameOffset = 100;
        let seq = 1;
        records.forEach((operations, record) => {
          const frame = recordFrame(operations, seq);
          expect(table.commitRecord(frame, 0, frame.length, frameOffset, 100, 1)).toBe(true);
          operations.forEach(([key, value], index) => last.set(key, value === null ? undefined : [record, index]));
          payloads.push({ payload: frame.subarray(8, -4), offset: frameOffset + 8 });
          frameOffset += frame.length;
          seq += operations.length;
        });
        const found = new Float64Array(6);
        payloads.forEach(({ payload, offset }, record) => {
          const out = new Uint32Array(4 * records[record]!.length);
          const count = table.livePuts(payload, offset, out);
          const expected = records[record]!.flatMap(([key], index) => (last.get(key)?.[0] === record && last.get(key)?.[1] === index ? [index] : []));
          expect(count).toBe(expected.length);
          // Each reported put: its bytes in the payload, its key's slot.
          let at = 8;
          const starts = records[record]!.map(([key, value]) => {
            const start = at;
            at += 15 + key.length + (value === null ? 0 : 4 + value.length);
            return start;
          });
          expected.forEach((index, live) => {
            const [key, value] = records[record]![index]!;
            const [start, keyEnd, end, slot] = Array.from(out.subarray(4 * live, 4 * live + 4));
            expect([start, keyEnd, end]).toEqual([starts[index], starts[index]! + 15 + key.length, starts[index]! + 15 + key.length + 4 + value!.length]);
            expect(table.find(Buffer.from(key, 'latin1'), key.length, found)).toBe(slot);
          });
        });
      }),
    );
  });

  it('livePuts refuses a record that does not check out, or an out too small for its puts', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame([['a', '1'], ['b', '2']], 1);
    table.commitRecord(frame, 0, frame.length, 100, 100, 1);
    const payload = frame.subarray(8, -4);
    expect(table.livePuts(payload, 108, new Uint32Array(8))).toBe(2);
    expect(() => table.livePuts(payload, 108, new Uint32Array(7))).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
    expect(() => table.livePuts(payload.subarray(0, -1), 108, new Uint32Array(8))).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
  });

  it('copyLivePuts throws RecordDamaged for a record that does not check out, InvalidArg for a wrong call, changing nothing', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const frame = putFrame([['a', '1'], ['b', '2']], 1);
    table.commitRecord(frame, 0, frame.length, 100, 100, 1);
    const payload = frame.subarray(8, -4);
    const target = new Uint8Array(payload.length);
    const [slots, from, to] = [new Uint32Array(2), new Float64Array(2), new Float64Array(2)];
    const copy = (record: Uint8Array, putsMax: number, into: Uint8Array, position = 0): unknown => table.copyLivePuts(record, 108, 0, putsMax, into, 0, position, slots, from, to, 0);
    expect(copy(payload, 2, target)).toEqual({ puts: 2, next: 2, copied: 2, bytes: payload.length - 8 });
    target.fill(0);
    expect(() => copy(payload.subarray(0, -1), 2, target)).toThrow(expect.objectContaining({ code: 'RecordDamaged' }));
    const unknownType = Buffer.from(payload);
    unknownType[8] = 9;
    expect(() => copy(unknownType, 2, target)).toThrow(expect.objectContaining({ code: 'RecordDamaged' }));
    expect(() => copy(payload, 2, target.subarray(0, 10))).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
    expect(() => copy(payload, 0, target)).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
    expect(() => copy(payload, 2, target, -1)).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
    expect(target.every((byte) => byte === 0)).toBe(true);
  });

  it('throws InvalidArg with the reason for a record that does not check out', () => {
    const table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
    const payload = putFrame([['a', '1']], 5).subarray(8, -4);
    payload.writeUInt32LE(placeOf(100, 3), 4);
    expect(() => table.replayRecord(payload, 108, 5, 3)).toThrow(/seq 5 after 5/);
    // The same record read at another offset, or in another generation, is not where it was written.
    expect(() => table.replayRecord(payload, 208, 0, 3)).toThrow(/misplaced/);
    expect(() => table.replayRecord(payload, 108, 0, 4)).toThrow(/misplaced/);
    payload.writeUInt8(9, 8);
    expect(() => table.replayRecord(payload, 108, 0, 3)).toThrow(expect.objectContaining({ code: 'InvalidArg' }));
  });
});
