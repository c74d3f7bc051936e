import { join } from 'node:path';
import { expect, test } from 'vitest';
import { SegmentLog, type LogRecord } from '../src/index.js';
import { tempDir } from './helpers.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

async function take(stream: AsyncIterator<LogRecord>, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const next = await stream.next();
    if (next.done === true) break;
    out.push(decode(next.value.value));
  }
  return out;
}

test('a read-only log follows a writer through its files, across rolls, and ends quietly on close', async () => {
  const dir = join(tempDir(), 'log');
  // Small segments: the 300 later records, packed into batch frames of about 15 bytes a
  // record, roll the writer several times.
  const writer = await SegmentLog.open(dir, { segmentBytes: 1024 });
  writer.append({ value: text('first') });
  await writer.sync();
  const reader = await SegmentLog.open(dir, { readOnly: true });
  const stream = reader.stream({ follow: true });
  expect(await take(stream, 1)).toEqual(['first']);
  const later = Array.from({ length: 300 }, (_, i) => `later ${i}`);
  writer.appendBatch(later.map((value) => ({ value: text(value) })));
  await writer.sync();
  expect(writer.segments().length).toBeGreaterThan(2);
  expect(await take(stream, 300)).toEqual(later);
  const ended = stream.next();
  await reader.close();
  expect((await ended).done).toBe(true);
  await writer.close();
});
