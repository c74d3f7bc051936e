import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

test('stream sees records appended while it runs and ends once caught up', async () => {
  await using journal = await Journal.open(join(tempDir(), 'wal'), { durability });
  journal.appendBatch([new Uint8Array([1]), new Uint8Array([2])]);
  const seen: number[] = [];
  for await (const record of journal.stream()) {
    seen.push(record.payload[0]!);
    if (record.payload[0] === 2) journal.append(new Uint8Array([3]));
  }
  expect(seen).toEqual([1, 2, 3]);
});

test('records larger than the read chunk come back whole from both readers', async () => {
  await using journal = await Journal.open(join(tempDir(), 'wal'), { durability });
  const large = new Uint8Array(3 << 20).map((_, index) => index % 253);
  journal.appendBatch([new Uint8Array([1]), large, new Uint8Array([2])]);
  await journal.sync();
  const streamed: Uint8Array[] = [];
  for await (const record of journal.stream()) streamed.push(record.payload);
  const scanned = [...journal.records()].map((record) => record.payload);
  for (const payloads of [streamed, scanned]) {
    expect(payloads.map((payload) => payload.length)).toEqual([1, large.length, 1]);
    expect(Buffer.from(payloads[1]!).equals(Buffer.from(large))).toBe(true);
  }
});

test('an aborted signal stops the stream with KEEL_ABORTED, the reason as its cause', async () => {
  await using journal = await Journal.open(join(tempDir(), 'wal'), { durability });
  journal.appendBatch([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);
  const controller = new AbortController();
  const seen: number[] = [];
  const reason = new Error('stop');
  await expect(
    (async () => {
      for await (const record of journal.stream({ signal: controller.signal })) {
        seen.push(record.payload[0]!);
        controller.abort(reason);
      }
    })(),
  ).rejects.toMatchObject({ code: 'KEEL_ABORTED', cause: reason });
  expect(seen).toEqual([1]);
});

test('next() calls made without awaiting are answered in order', async () => {
  await using journal = await Journal.open(join(tempDir(), 'wal'), { durability });
  journal.appendBatch([new Uint8Array([1]), new Uint8Array([2])]);
  const stream = journal.stream();
  const results = await Promise.all([stream.next(), stream.next(), stream.next(), stream.next()]);
  expect(results.map((result) => (result.done ? 'done' : result.value.payload[0]))).toEqual([1, 2, 'done', 'done']);
});

test('a position inside a frame, or damage under a live journal, is reported by both readers', async () => {
  const path = join(tempDir(), 'wal');
  await using journal = await Journal.open(path, { durability });
  journal.appendBatch([new Uint8Array(20).fill(1), new Uint8Array(20).fill(2), new Uint8Array(20).fill(3)]);
  await journal.sync();
  const drain = async (from: number): Promise<void> => {
    for await (const record of journal.stream({ from })) void record;
  };
  await expect(drain(5)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT', offset: 5 });
  // Media damage below the end: a bit flip in the second record.
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const fd = openSync(path, 'r+');
  writeSync(fd, new Uint8Array([0xee]), 0, 1, 32 + 10);
  closeSync(fd);
  await expect(drain(0)).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: 32 });
  expect(() => [...journal.records()]).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', offset: 32 }));
});
