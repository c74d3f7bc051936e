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

test('an aborted signal stops the stream with its reason', async () => {
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
  ).rejects.toBe(reason);
  expect(seen).toEqual([1]);
});
