// The writer the kill test SIGKILLs: appends batches whose contents follow from their
// offsets, awaits sync(), and only then prints "<first offset> <count>". Small segments
// make it roll often. Runs until killed.
import { SegmentLog } from '../../src/index.js';
import { timestampFor, valueFor } from './record-for.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: kill-child <log dir>');

const log = await SegmentLog.open(dir, { segmentBytes: 32 * 1024, indexIntervalBytes: 1024, durability: { mode: 'explicit' } });
for (let batch = 1; ; batch = (batch % 17) + 1) {
  const next = log.nextOffset;
  const records = Array.from({ length: batch }, (_, index) => ({ value: valueFor(next + index), key: index % 2 === 0 ? null : valueFor(index), timestamp: timestampFor(next + index) }));
  const first = log.appendBatch(records);
  await log.sync();
  // A pipe write is synchronous on Linux: the line is out before the next append.
  process.stdout.write(`${first} ${batch}\n`);
}
