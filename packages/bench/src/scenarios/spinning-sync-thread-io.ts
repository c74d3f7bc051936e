import { InterceptedIo, type Io, type IoFile } from '@keel/core';

/** An Io whose files sync on a thread of their own from the start, spinning `spinMicroseconds` before it parks. */
export class SpinningSyncThreadIo extends InterceptedIo {
  readonly #spinMicroseconds: number;

  constructor(io: Io, spinMicroseconds: number) {
    super(io);
    this.#spinMicroseconds = spinMicroseconds;
  }

  override wrap(file: IoFile): IoFile {
    file.useSyncThread?.({ spinMicroseconds: this.#spinMicroseconds });
    return super.wrap(file);
  }
}
