import type { CopyQuota } from './copy-quota.js';

/**
 * One copy's payments to the copy quota. The store asks before each request that sends
 * bytes of the `.log` object (once per multipart part, `RemotePutOptions.beforeSend`), so
 * a large segment goes out at the quota's pace, part by part, instead of being paid for
 * whole and then sent at the store's full speed. The manifest is paid for together with
 * the object's last part: once that part is admitted, nothing waits before the manifest's
 * put and the copy-finished record that makes the copy count.
 *
 * A store may send without asking (one that does not implement the hook, or a put that
 * found the object already there and sent nothing): `settle()`, called between the
 * object's put and the manifest's, pays for whatever was not asked for.
 */
export class CopyPacing {
  readonly #quota: CopyQuota;
  readonly #objectBytes: number;
  readonly #manifestBytes: number;
  #askedBytes = 0;
  #manifestPaid = false;

  constructor(quota: CopyQuota, objectBytes: number, manifestBytes: number) {
    this.#quota = quota;
    this.#objectBytes = objectBytes;
    this.#manifestBytes = manifestBytes;
  }

  /** The hook to give the object's put; none for an unlimited quota (nothing to wait for). */
  get beforeSend(): ((bytes: number, signal: AbortSignal) => Promise<void>) | undefined {
    if (!this.#quota.limited) return undefined;
    // The store's signal covers the uploader's own (it is the put's signal, or follows it).
    return (bytes, signal) => {
      this.#askedBytes += bytes;
      return this.#quota.acquire(bytes + this.#takeManifest(this.#askedBytes >= this.#objectBytes), signal);
    };
  }

  /** Pays for what the store sent without asking, and the manifest if no part paid for it yet. */
  async settle(signal: AbortSignal): Promise<void> {
    const unasked = Math.max(0, this.#objectBytes - this.#askedBytes);
    this.#askedBytes += unasked;
    const owed = unasked + this.#takeManifest(true);
    if (owed > 0) await this.#quota.acquire(owed, signal);
  }

  #takeManifest(due: boolean): number {
    if (!due || this.#manifestPaid) return 0;
    this.#manifestPaid = true;
    return this.#manifestBytes;
  }
}
