import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { JOURNAL_FRAME_FORMAT, Journal, type JournalRecord } from '../src/index.js';
import { encodeFrame } from '@keel/core';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Takes `count` records from a stream, leaving it open. */
async function take(stream: AsyncIterator<JournalRecord>, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const next = await stream.next();
    if (next.done === true) break;
    out.push(decode(next.value.payload));
  }
  return out;
}

test('stream({ follow: true }) waits for appends, and ends quietly when the journal closes', async () => {
  const journal = await Journal.open(join(tempDir(), 'wal'));
  journal.append(text('a'));
  const stream = journal.stream({ follow: true });
  expect(await take(stream, 1)).toEqual(['a']);
  const waiting = take(stream, 2);
  journal.append(text('b'));
  journal.appendBatch([text('c')]);
  expect(await waiting).toEqual(['b', 'c']);
  const ended = stream.next();
  await journal.close();
  expect(await ended).toEqual({ value: undefined, done: true });
});

test('an aborted follower stops with KEEL_ABORTED', async () => {
  const journal = await Journal.open(join(tempDir(), 'wal'));
  const controller = new AbortController();
  const stream = journal.stream({ follow: true, signal: controller.signal });
  const waiting = stream.next();
  controller.abort(new Error('enough'));
  await expect(waiting).rejects.toMatchObject({ code: 'KEEL_ABORTED' });
  await journal.close();
});

test('a read-only journal follows a writer through the file, and waits for a frame still landing', async () => {
  const path = join(tempDir(), 'wal');
  const writer = await Journal.open(path);
  writer.append(text('one'));
  await writer.sync();
  const reader = await Journal.open(path, { readOnly: true });
  const stream = reader.stream({ follow: true });
  expect(await take(stream, 1)).toEqual(['one']);
  writer.appendBatch([text('two'), text('three')]);
  await writer.sync();
  expect(await take(stream, 2)).toEqual(['two', 'three']);
  await writer.close();
  // A frame arriving in two writes, as another process's write may be seen halfway.
  const frame = encodeFrame(text('four'), JOURNAL_FRAME_FORMAT);
  appendFileSync(path, frame.subarray(0, 7));
  const waiting = take(stream, 1);
  appendFileSync(path, frame.subarray(7));
  expect(await waiting).toEqual(['four']);
  const ended = stream.next();
  await reader.close();
  expect(await ended).toEqual({ value: undefined, done: true });
});
