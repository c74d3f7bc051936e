// The child the demo kills: concurrent writers append records and await syncThrough;
// a record is acknowledged on stdout ("<sequence> <lsn>") only once it is durable.
// Runs until it is killed.
import { Journal } from '@keel/journal';
import { makePayload } from './payload.js';

const CONCURRENT_WRITERS = 16;
const BATCH_RECORDS_MAX = 32;

const path = process.argv[2];
if (path === undefined) {
  console.error('usage: writer <journal path>');
  process.exit(2);
}

const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
let sequence = 0;

async function writer(id: number): Promise<never> {
  for (let round = 0; ; round++) {
    // Some writers append one record at a time, others batches: both share fdatasyncs.
    const count = id % 2 === 0 ? 1 : 1 + ((round * 7 + id) % BATCH_RECORDS_MAX);
    const first = sequence;
    const payloads = Array.from({ length: count }, () => makePayload(sequence++));
    const lsn = count === 1 ? journal.append(payloads[0]!) : journal.appendBatch(payloads);
    await journal.syncThrough(lsn);
    let lines = '';
    for (let i = 0; i < count; i++) lines += `${first + i} ${lsn}\n`;
    // Writes to a pipe are synchronous on Linux: the acknowledgement is out before the next append.
    process.stdout.write(lines);
  }
}

await Promise.all(Array.from({ length: CONCURRENT_WRITERS }, (_, id) => writer(id)));
