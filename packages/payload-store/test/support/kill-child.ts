// The writer the kill test SIGKILLs: several concurrent writers append payloads derived
// from a sequence number, await sync(), and only then print "<sequence> <encoded ref in
// hex>". Small segments make it rotate often; every so often it seals. Runs until killed.
import { PayloadRef, PayloadStore } from '../../src/index.js';
import { payloadFor } from './payload-for.js';

const WRITERS = 4;
const SEAL_EVERY = 500;
const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: kill-child <store dir> <first sequence>');

const store = await PayloadStore.open(dir, { segmentBytes: 256 * 1024, durability: { mode: 'explicit' } });
let sequence = Number(process.argv[3] ?? 0);

async function writer(batch: number): Promise<never> {
  for (;;) {
    const first = sequence;
    const payloads = Array.from({ length: batch }, () => payloadFor(sequence++));
    const refs = store.appendBatch(payloads);
    if (first % SEAL_EVERY < batch) store.seal();
    await store.sync();
    let lines = '';
    refs.forEach((ref, index) => (lines += `${first + index} ${Buffer.from(PayloadRef.encode(ref)).toString('hex')}\n`));
    // A pipe write is synchronous on Linux: the line is out before the next append.
    process.stdout.write(lines);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index + 1)));
