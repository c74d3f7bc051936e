import {
  FrameScanner,
  KeelError,
  Store,
  assertBytes,
  defineFrameFormat,
  encodeFrame,
  joinPath,
  nativeIo,
  normalizeDurability,
  normalizeReadOnly,
  normalizeRecoveryPolicy,
  openStoreDirectory,
  recoverFrameLog,
  type DurabilityOption,
  type Io,
  type IoFile,
  type RecoveryPolicy,
  type StoreDirectory,
} from '@keel/core';

/** Frames with magic "BLOB": core's length, payload and CRC-32C; no file header. */
export const BLOB_FORMAT = defineFrameFormat(0x424c_4f42);
export const BLOB_FILE_NAME = 'blobs.log';

export interface BlobLogOptions {
  io?: Io;
  durability?: DurabilityOption;
  recovery?: RecoveryPolicy;
  /** Open beside a live writer: no lock, and nothing on disk changes. */
  readOnly?: boolean;
}

export interface Blob {
  /** Byte offset of the blob's frame in the file. */
  position: number;
  payload: Uint8Array;
}

/**
 * The smallest useful keel store: blobs appended to one file of checksummed frames.
 * Everything that is not the format — lock, group commit, durability policy, poisoning,
 * close — comes from core's `Store`.
 */
export class BlobLog extends Store<{ blobs: number }> {
  readonly #file: IoFile;
  #end: number;
  #blobs: number;

  static async open(dir: string, options: BlobLogOptions = {}): Promise<BlobLog> {
    const io = options.io ?? nativeIo;
    const policy = normalizeRecoveryPolicy(options.recovery);
    const durability = normalizeDurability(options.durability);
    const readOnly = normalizeReadOnly(options.readOnly);
    const opened = await openStoreDirectory(io, dir, async (store) => {
      const path = joinPath(dir, BLOB_FILE_NAME);
      const file = store.io.open(path, { create: true });
      try {
        const report = await recoverFrameLog({ io: store.io, file, format: BLOB_FORMAT, policy, foreignIfBadStart: true });
        // Bytes an earlier process wrote may still be only in the page cache.
        if (durability.mode !== 'none') await file.datasync();
        await store.io.syncDir(dir);
        return { file, report };
      } catch (error) {
        file.closeSync();
        throw error;
      }
    }, { readOnly });
    return new BlobLog(opened, durability.mode === 'none' ? 0 : opened.recovered.report.validBytes, durability);
  }

  private constructor(opened: StoreDirectory & { recovered: { file: IoFile; report: BlobLog['recovery'] } }, durable: number, durability: ReturnType<typeof normalizeDurability>) {
    const { file, report } = opened.recovered;
    super({ name: `blob log ${opened.dir}`, io: opened.io, durability, durableThrough: durable, recovery: report, lock: opened.lock, overlay: opened.overlay });
    this.#file = file;
    this.#end = report.validBytes;
    this.#blobs = report.records;
  }

  /** Appends one blob; returns the position it ends at (what `syncThrough` takes). */
  append(payload: Uint8Array): number {
    this.assertWritable();
    assertBytes(payload, 'payload');
    const frame = encodeFrame(payload, BLOB_FORMAT);
    this.#file.writeSync(frame, this.#end);
    this.#end += frame.length;
    this.#blobs++;
    this.wrote();
    return this.#end;
  }

  syncThrough(position: number): Promise<number> {
    return this.syncThroughPosition(position);
  }

  /** Every blob, each checked against its CRC. */
  blobs(): Blob[] {
    this.assertOpen();
    const out: Blob[] = [];
    const scanner = new FrameScanner(this.#file, BLOB_FORMAT, { to: this.#end });
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) out.push({ position: frame.offset, payload: frame.payload.slice() });
    if (scanner.validBytes !== this.#end) {
      throw new KeelError('KEEL_CORRUPT', `${this.#file.path} is damaged at offset ${scanner.validBytes} (${scanner.tailState})`, { path: this.#file.path, offset: scanner.validBytes });
    }
    return out;
  }

  protected writtenThrough(): number {
    return this.#end;
  }

  protected async flushToDisk(): Promise<void> {
    await this.#file.datasync();
  }

  protected flushToDiskSync(): void {
    this.#file.datasyncSync();
  }

  protected handToOs(): void {}

  protected closeFiles(): void {
    this.#file.closeSync();
  }

  protected storeStats(): { blobs: number } {
    return { blobs: this.#blobs };
  }
}
