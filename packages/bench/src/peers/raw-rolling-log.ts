import { closeSync, fdatasync, fsync, mkdirSync, openSync, writeSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const PREPARED_NAME = 'prepared.log';
/** What segment-log writes into a prepared file before a roll takes it: a frame of a header's size. */
const PREPARED_FRAME_BYTES = 64;

/**
 * node:fs doing the least a crash-safe roll to a new file needs, the way segment-log rolls:
 * batches are written with `writeSync` and made durable with `fs.fdatasync` on the
 * threadpool, into files of at most `fileBytes`. The next file is made ahead, under a name
 * of its own, its directory entry made durable by a directory fsync once the current file
 * is half full; the batch that rolls writes into it, so its fdatasync needs no directory
 * sync; after that batch is durable, the file is renamed to its own name and the directory
 * fsynced again. Both directory syncs run in the background, one at a time, while batches
 * go on: what they cost those batches is the file system's, not segment-log's.
 */
export class RawRollingLog {
  readonly #directory: string;
  readonly #fileBytes: number;
  readonly #directoryFd: number;
  #fd: number;
  #size = 0;
  #files = 1;
  /** The file made ahead: its directory entry durable, ready for the next roll. */
  #prepared: number | null = null;
  /** The own name of the rolled file still under the prepared name: renamed after the batch that rolled is durable. */
  #renameTo: string | null = null;
  #background: Promise<void> | null = null;

  constructor(directory: string, fileBytes: number) {
    mkdirSync(directory, { recursive: true });
    this.#directory = directory;
    this.#fileBytes = fileBytes;
    this.#directoryFd = openSync(directory, 'r');
    this.#fd = openSync(this.#fileName(0), 'w+');
  }

  /** Files so far: it grows by one on each roll. */
  get files(): number {
    return this.#files;
  }

  /** Writes the batch (into the next file when it would not fit) and resolves once it is durable. */
  async appendBatchDurably(bytes: Uint8Array): Promise<void> {
    const createdFile = this.#size > 0 && this.#size + bytes.length > this.#fileBytes && !this.#roll();
    this.#size += writeSync(this.#fd, bytes, 0, bytes.length, this.#size);
    await fdatasyncAsync(this.#fd);
    // Without a file made ahead, the new file's directory entry is made durable on this batch's path.
    if (createdFile) await fsyncAsync(this.#directoryFd);
    this.#startBackground();
  }

  async close(): Promise<void> {
    await this.#background;
    closeSync(this.#fd);
    if (this.#prepared !== null) closeSync(this.#prepared);
    closeSync(this.#directoryFd);
  }

  /** Moves to the next file; returns whether it was made ahead. */
  #roll(): boolean {
    closeSync(this.#fd);
    const name = this.#fileName(this.#files++);
    this.#size = 0;
    if (this.#prepared === null) {
      this.#fd = openSync(name, 'w+');
      return false;
    }
    this.#fd = this.#prepared;
    this.#prepared = null;
    this.#renameTo = name;
    return true;
  }

  /** One background step at a time, as segment-log runs them: the rename first, then the next file once this one is half full. */
  #startBackground(): void {
    if (this.#background !== null) return;
    let step: (() => Promise<void>) | null = null;
    const renameTo = this.#renameTo;
    if (renameTo !== null) step = () => this.#takeOwnName(renameTo);
    else if (this.#prepared === null && this.#size * 2 >= this.#fileBytes) step = () => this.#prepareNext();
    if (step === null) return;
    this.#background = step().finally(() => {
      this.#background = null;
    });
  }

  async #takeOwnName(name: string): Promise<void> {
    await rename(join(this.#directory, PREPARED_NAME), name);
    await fsyncAsync(this.#directoryFd);
    this.#renameTo = null;
  }

  /** Created and written on the event loop, as segment-log does; only the directory sync is off it. */
  async #prepareNext(): Promise<void> {
    const fd = openSync(join(this.#directory, PREPARED_NAME), 'wx+');
    writeSync(fd, new Uint8Array(PREPARED_FRAME_BYTES), 0, PREPARED_FRAME_BYTES, 0);
    await fsyncAsync(this.#directoryFd);
    this.#prepared = fd;
  }

  #fileName(index: number): string {
    return join(this.#directory, `${String(index).padStart(20, '0')}.log`);
  }
}
