import { KeelError, assertPosition, badArgument, describeType, nativeIo, normalizeIo, type Io, type IoFile, type TailState } from '@keel/core';
import { assertPath } from './options.js';
import { scanRecords, type JournalRecord, type ScanEnd } from './records.js';

export interface JournalReaderOptions {
  io?: Io;
}

/**
 * An offline reader: opens the file read-only, takes no lock and never writes, so it can
 * inspect a journal that another process has open, or one that would not open cleanly.
 * Iterating reports where the valid frames end (`position`) and why (`tailState`).
 */
export class JournalReader {
  readonly path: string;
  readonly #file: IoFile;
  #tailState: TailState | null = null;
  #position = 0;
  #closed = false;

  static async open(path: string, options: JournalReaderOptions = {}): Promise<JournalReader> {
    assertPath(path);
    if (options === null || typeof options !== 'object') throw badArgument(`options must be an object, got ${describeType(options)}`);
    const io = normalizeIo(options.io, nativeIo);
    return new JournalReader(path, io.open(path));
  }

  private constructor(path: string, file: IoFile) {
    this.path = path;
    this.#file = file;
  }

  /** Why the last completed iteration stopped; null before one has finished. */
  get tailState(): TailState | null {
    return this.#tailState;
  }

  /** The offset just past the last valid frame the last iteration reached. */
  get position(): number {
    return this.#position;
  }

  /** The file's size in bytes now. */
  get size(): number {
    return this.#file.sizeSync();
  }

  /** Whole, valid records from `from` (default 0) up to the first damaged or missing byte. */
  records(options: { from?: number } = {}): IterableIterator<JournalRecord> {
    if (this.#closed) throw new KeelError('KEEL_CLOSED', `reader of ${this.path} is closed`, { path: this.path });
    const from = options.from ?? 0;
    assertPosition(from, 'from');
    return scanRecords(this.#file, from, this.#file.sizeSync(), (end: ScanEnd) => {
      this.#position = end.position;
      // An iteration abandoned early does not know how the file ends.
      this.#tailState = end.tailState === 'clean-end' && end.position < this.#file.sizeSync() ? this.#tailState : end.tailState;
    });
  }

  [Symbol.iterator](): IterableIterator<JournalRecord> {
    return this.records();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.closeSync();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
