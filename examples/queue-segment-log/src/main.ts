// A queue on @keel/segment-log: a producer appends messages, a consumer follows the log
// from its committed offset, and retention drops old segments.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentLog } from '@keel/segment-log';

const dir = mkdtempSync(join(tmpdir(), 'keel-queue-'));
const log = await SegmentLog.open(dir, { segmentBytes: 64 * 1024, retention: { bytes: 256 * 1024 }, durability: 'every-write' });

// The consumer: follows the log from offset 0 until it has seen every message.
const controller = new AbortController();
const consumed: string[] = [];
const consumer = (async () => {
  try {
    for await (const record of log.stream({ from: 0, follow: true, signal: controller.signal })) {
      consumed.push(new TextDecoder().decode(record.value));
      if (consumed.length === 5000) controller.abort();
    }
  } catch (error) {
    if ((error as { code?: string }).code !== 'KEEL_ABORTED') throw error;
  }
})();

// The producer: 5,000 messages keyed by order id, in batches; each batch is durable once sync resolves.
for (let batch = 0; batch < 50; batch++) {
  log.appendBatch(Array.from({ length: 100 }, (_, i) => ({ key: new TextEncoder().encode(`order-${(batch * 100 + i) % 97}`), value: new TextEncoder().encode(`message ${batch * 100 + i}`) })));
  await log.sync();
}
await consumer;
// Retention runs on every roll; the oldest segments are gone, the newest 256 KiB kept.
const { startOffset, nextOffset } = log;
await log.close();
rmSync(dir, { recursive: true, force: true });

console.log(`consumed ${consumed.length} messages in order; after retention the log holds offsets [${startOffset}, ${nextOffset})`);
if (consumed.length !== 5000 || consumed.some((message, i) => message !== `message ${i}`)) process.exit(1);
