import { InterceptedIo, ioError, nativeIo, type Io, type IoMutation } from '@keel/core';

/** Which operation an injected failure hits (an fsync counts as a datasync). */
export type MutatingOperation = Exclude<IoMutation, 'fsync'>;

/**
 * An Io over the native one that counts mutating operations and, once `failAfter` of
 * them have succeeded, fails every later one with EIO (a crash from the store's point of
 * view: nothing it does afterwards reaches disk). `failOnly` narrows the failures to
 * some operations (e.g. only datasync) while everything else keeps working.
 */
export class FailingIo extends InterceptedIo {
  operations = 0;
  failAfter = Number.POSITIVE_INFINITY;
  failOnly: ReadonlySet<MutatingOperation> | null = null;
  /** Every mutating operation that went through, in order. */
  readonly log: Array<{ operation: MutatingOperation; path: string }> = [];

  constructor(base: Io = nativeIo) {
    super(base);
  }

  /** Counts one operation and throws when it is past the limit. */
  step(operation: MutatingOperation, path: string): void {
    if (this.failOnly !== null && !this.failOnly.has(operation)) {
      this.log.push({ operation, path });
      return;
    }
    if (this.operations >= this.failAfter) throw ioError('EIO', operation, path);
    this.operations++;
    this.log.push({ operation, path });
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.step(operation === 'fsync' ? 'datasync' : operation, path);
    return run();
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.step(operation === 'fsync' ? 'datasync' : operation, path);
    return run();
  }
}
