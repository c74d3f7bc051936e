import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal, JournalReader } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

test('appends, syncs, reads back and reopens at the clean end', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
  expect(journal.recovery.tailState).toBe('clean-end');
  expect(journal.recovery.actions.map((action) => action.kind)).toEqual(['created']);
  expect(journal.append(text('hello'))).toBe(17);
  expect(journal.append(new Uint8Array(0))).toBe(29);
  expect(journal.appendBatch([text('a'), text('bc')])).toBe(29 + 13 + 14);
  expect(journal.syncedLsn).toBe(0);
  // Buffered frames are visible to readers before any sync.
  expect([...journal.records()].map((record) => [record.lsn, decode(record.payload)])).toEqual([
    [17, 'hello'],
    [29, ''],
    [42, 'a'],
    [56, 'bc'],
  ]);
  expect(await journal.syncThrough(17)).toBe(56);
  expect(journal.syncedLsn).toBe(56);
  expect([...journal.records({ from: 29 })].map((record) => decode(record.payload))).toEqual(['a', 'bc']);
  const streamed: string[] = [];
  for await (const record of journal.stream({ from: 17 })) streamed.push(decode(record.payload));
  expect(streamed).toEqual(['', 'a', 'bc']);
  await journal.close();
  await journal.close();
  expect(readFileSync(path).length).toBe(56);

  await using again = await Journal.open(path, { durability: { mode: 'explicit' } });
  expect(again.recovery).toMatchObject({ tailState: 'clean-end', validBytes: 56, records: 4, discardedBytes: 0 });
  expect(again.nextLsn).toBe(56);
  expect(again.syncedLsn).toBe(56);
  expect(again.append(text('more'))).toBe(56 + 16);
  expect(await again.sync()).toBe(72);
  expect(again.stats()).toMatchObject({ nextLsn: 72, syncedLsn: 72, records: 1, flushes: 1, writes: 1, poisoned: false, closed: false });
});

test('payloads handed out stay valid after later appends', async () => {
  const journal = await Journal.open(join(tempDir(), 'wal'));
  journal.append(text('first'));
  const [first] = [...journal.records()];
  for (let i = 0; i < 100; i++) journal.append(new Uint8Array(1000).fill(i));
  expect([...journal.records()].length).toBe(101);
  expect(decode(first!.payload)).toBe('first');
  await journal.close();
});

test('the offline reader reports records, position and tail state without writing', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path);
  journal.appendBatch([text('one'), text('two')]);
  await journal.close();
  const before = readFileSync(path);
  const reader = await JournalReader.open(path);
  expect(reader.tailState).toBeNull();
  expect([...reader].map((record) => decode(record.payload))).toEqual(['one', 'two']);
  expect(reader.tailState).toBe('clean-end');
  expect(reader.position).toBe(before.length);
  reader.close();
  expect(readFileSync(path).equals(before)).toBe(true);
});

test('reading buffered records never writes: they come from the log buffer', async () => {
  const { recordingIo } = await import('./support/recording-io.js');
  const { io, log } = recordingIo();
  for (const direct of [false, true]) {
    const journal = await Journal.open(join(tempDir(), 'wal'), { durability: { mode: 'explicit' }, io, direct, writeBufferBytes: 4096 });
    journal.appendBatch(Array.from({ length: 50 }, (_, index) => new Uint8Array(100).fill(index)));
    const writesBefore = log.writes;
    journal.append(text('pending'));
    const scanned = [...journal.records()].map((record) => record.payload[0]);
    const streamed: number[] = [];
    for await (const record of journal.stream()) streamed.push(record.payload[0]!);
    expect(log.writes).toBe(writesBefore);
    expect(scanned).toEqual(streamed);
    expect(scanned.length).toBe(51);
    expect(decode([...journal.records()].at(-1)!.payload)).toBe('pending');
    await journal.close();
  }
});

test('breaking out of records() early is not damage', async () => {
  const journal = await Journal.open(join(tempDir(), 'wal'));
  for (let i = 0; i < 10; i++) journal.append(text(`record ${i}`));
  await journal.sync();
  const seen: string[] = [];
  for (const record of journal.records()) {
    seen.push(decode(record.payload));
    if (seen.length === 3) break;
  }
  expect(seen).toEqual(['record 0', 'record 1', 'record 2']);
  await journal.close();
});
