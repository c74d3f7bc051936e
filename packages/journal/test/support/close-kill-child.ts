// The writer the close-kill test SIGKILLs inside close: it appends, syncs and prints
// "synced <lsn>", appends more, then closes through an Io that stops before the
// `step`-th disk-changing operation of the close, prints "step <n> <operation> <path>"
// and blocks until the parent's SIGKILL lands. A close with fewer operations prints
// "closed" and exits.
import { InterceptedIo, nativeIo, type IoMutation } from '@keel/core';
import { Journal } from '../../src/index.js';
import { makePayload } from './record-payload.js';

const [path, stepText] = process.argv.slice(2);
if (path === undefined || stepText === undefined) throw new Error('usage: close-kill-child <journal path> <step>');

class StopBeforeStep extends InterceptedIo {
  armed = false;
  #seen = 0;

  constructor(private readonly step: number) {
    super(nativeIo);
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.#stopHere(operation, path);
    return run();
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.#stopHere(operation, path);
    return run();
  }

  #stopHere(operation: IoMutation, path: string): void {
    if (!this.armed || ++this.#seen !== this.step) return;
    // A pipe write is synchronous on Linux: the line is out before this thread blocks.
    process.stdout.write(`step ${this.step} ${operation} ${path}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
}

const io = new StopBeforeStep(Number(stepText));
const journal = await Journal.open(path, { io, durability: { mode: 'explicit' } });
for (let sequence = 0; sequence < 40; sequence++) journal.append(makePayload(sequence));
process.stdout.write(`synced ${await journal.sync()}\n`);
for (let sequence = 40; sequence < 50; sequence++) journal.append(makePayload(sequence));
io.armed = true;
await journal.close();
process.stdout.write('closed\n');
