// A ledger on @keel/journal: every transfer is appended and acknowledged only once it is
// durable (syncThrough shares one fdatasync among every waiter); on restart the balances
// are rebuilt by replaying the journal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@keel/journal';

interface Transfer {
  from: string;
  to: string;
  amount: number;
}

const encode = (transfer: Transfer): Uint8Array => new TextEncoder().encode(JSON.stringify(transfer));
const decode = (bytes: Uint8Array): Transfer => JSON.parse(new TextDecoder().decode(bytes)) as Transfer;

const dir = mkdtempSync(join(tmpdir(), 'keel-ledger-'));
const path = join(dir, 'ledger.wal');

const journal = await Journal.open(path);
// Concurrent transfers: each waits for its own record to be durable; they share fdatasyncs.
await Promise.all(
  Array.from({ length: 100 }, (_, i) => {
    const lsn = journal.append(encode({ from: `acct-${i % 7}`, to: `acct-${(i + 3) % 7}`, amount: i + 1 }));
    return journal.syncThrough(lsn);
  }),
);
const { flushes } = journal.stats();
await journal.close();

// Restart: replay the journal into balances.
const replayed = await Journal.open(path);
const balances = new Map<string, number>();
let transfers = 0;
for (const record of replayed.records()) {
  const { from, to, amount } = decode(record.payload);
  balances.set(from, (balances.get(from) ?? 0) - amount);
  balances.set(to, (balances.get(to) ?? 0) + amount);
  transfers++;
}
await replayed.close();
rmSync(dir, { recursive: true, force: true });

const total = [...balances.values()].reduce((sum, balance) => sum + balance, 0);
console.log(`replayed ${transfers} transfers (${flushes} fdatasyncs for 100 durable appends); balances sum to ${total}`);
if (transfers !== 100 || total !== 0) process.exit(1);
