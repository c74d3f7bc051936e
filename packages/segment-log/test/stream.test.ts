import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, tempDir, text } from './helpers.js';

describe('stream', () => {
  it('yields what is there and ends without follow', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentBytes: 300 });
    for (let index = 0; index < 20; index++) log.append({ value: bytes(`r${index}`.padEnd(30)), timestamp: index });
    const seen: number[] = [];
    for await (const record of log.stream({ from: 4 })) seen.push(record.offset);
    expect(seen).toEqual(Array.from({ length: 16 }, (_, index) => index + 4));
  });

  it('with follow, sees later appends and stops on abort with KEEL_ABORTED', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir);
    log.append({ value: bytes('first'), timestamp: 1 });
    const controller = new AbortController();
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const record of log.stream({ from: 0, follow: true, signal: controller.signal })) {
        seen.push(text(record.value)!);
        if (seen.length === 1) log.append({ value: bytes('second'), timestamp: 2 });
        if (seen.length === 2) setImmediate(() => log.appendBatch([{ value: bytes('third'), timestamp: 3 }]));
        if (seen.length === 3) setImmediate(() => controller.abort());
      }
    })();
    await expect(consumer).rejects.toMatchObject({ code: 'KEEL_ABORTED' });
    expect(seen).toEqual(['first', 'second', 'third']);
  });

  it('a waiting follower ends when the log closes', async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir);
    const iterator = log.stream({ follow: true });
    const pending = iterator.next();
    await log.close();
    expect((await pending).done).toBe(true);
  });
});
