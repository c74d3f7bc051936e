// The writer process the kill test SIGKILLs: several concurrent writers apply their
// deterministic batches and await sync(); "<writer> <iteration>" is printed only after
// the sync covering that batch resolved. Automatic snapshots and compactions run along.
// With a third argument 'compacting', compactions also run back to back, and each
// prints "compacted" once done, so that a kill almost always lands inside one. Runs until
// killed.
import { WalKv } from '../../src/index.js';
import { writerOperations } from './writer-ops.js';

const WRITERS = 4;
const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: kill-child <dir> <first iteration>');
const firstIteration = Number(process.argv[3] ?? 0);
const compacting = process.argv[4] === 'compacting';

const kv = await WalKv.open<string>(dir, {
  valueEncoding: 'utf8',
  durability: { mode: 'explicit' },
  checkpointEveryBytes: 64 * 1024,
  compactWhenGarbageRatio: 0.5,
});

async function writer(index: number): Promise<never> {
  for (let iteration = firstIteration; ; iteration++) {
    const seq = kv.batch(writerOperations(index, iteration));
    const durable = await kv.sync();
    if (durable < seq) throw new Error(`sync returned ${durable} below ${seq}`);
    // A pipe write is synchronous on Linux: the line is out before the next batch.
    process.stdout.write(`${index} ${iteration}\n`);
  }
}

async function compactor(): Promise<never> {
  for (;;) {
    await kv.compact();
    process.stdout.write('compacted\n');
  }
}

await Promise.all([...Array.from({ length: WRITERS }, (_, index) => writer(index)), ...(compacting ? [compactor()] : [])]);
