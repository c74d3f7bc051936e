// The process `keel torture` kills: concurrent writers append batches and print each id
// on stdout only once its write is durable. Runs until it is killed.
import { BACKENDS, type BackendName } from '../detect.js';
import { openWriter, type TortureDurability } from './backends.js';

const WRITERS = 8;
const BATCH_MAX = 16;

const [backend, dir, durability, base] = process.argv.slice(2);
if (!BACKENDS.includes(backend as BackendName) || dir === undefined || (durability !== 'explicit' && durability !== 'every-write') || base === undefined) {
  process.stderr.write('usage: child <backend> <dir> <explicit|every-write> <first id>\n');
  process.exit(2);
}

const writer = await openWriter(backend as BackendName, dir, durability as TortureDurability);
let next = Number(base);

async function loop(lane: number): Promise<never> {
  for (let round = 0; ; round++) {
    const count = 1 + ((round * 7 + lane) % BATCH_MAX);
    const ids = Array.from({ length: count }, () => next++);
    await writer.write(ids);
    // Writes to a pipe are synchronous on Linux: the acknowledgement is out before the next write.
    process.stdout.write(`${ids.join('\n')}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, lane) => loop(lane)));
