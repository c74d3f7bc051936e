// The writer the kill test SIGKILLs: several concurrent writers append self-describing
// records and await syncThrough; each acknowledged record is printed ("<sequence> <lsn>")
// only after its syncThrough resolved. Runs until killed.
import { Journal } from '../../src/index.js';
import { makePayload } from './record-payload.js';

const WRITERS = 8;
const path = process.argv[2];
if (path === undefined) throw new Error('usage: kill-child <journal path> <first sequence> [direct]');

const journal = await Journal.open(path, { durability: { mode: 'explicit' }, direct: process.argv[4] === 'direct' });
let sequence = Number(process.argv[3] ?? 0);

async function writer(batchBytes: number): Promise<never> {
  for (;;) {
    const first = sequence;
    const count = 1 + (first % batchBytes);
    const payloads = Array.from({ length: count }, () => makePayload(sequence++));
    const lsn = count === 1 ? journal.append(payloads[0]!) : journal.appendBatch(payloads);
    await journal.syncThrough(lsn);
    let lines = '';
    for (let i = 0; i < count; i++) lines += `${first + i} ${lsn}\n`;
    // A pipe write is synchronous on Linux: the line is out before the next append.
    process.stdout.write(lines);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index + 1)));
