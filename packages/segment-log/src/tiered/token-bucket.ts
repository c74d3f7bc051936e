/**
 * A token bucket over bytes, pure: told the time, it answers how long a reservation must
 * wait. Tokens accrue at `bytesPerSecond` up to `burstBytes`; a reservation takes its bytes
 * once that many have accrued. One larger than the burst waits until its own size has
 * accrued (the bucket is never allowed to hold that much otherwise), so it is admitted
 * after a finite wait and still never ahead of the rate. Reservations are served in the
 * order they are made: one made while another waits starts from where that one left the bucket.
 *
 * What it guarantees, from its creation at `createdAt` with `initialBytes` ≤ `burstBytes`:
 * the bytes of every reservation admitted by a time t are at most
 * `initialBytes + bytesPerSecond × (t − createdAt)`, and over any run of reservations the
 * bytes are at most `max(burstBytes, the first one's bytes) + bytesPerSecond × the time between their admissions`.
 */
export class TokenBucket {
  readonly #bytesPerMs: number;
  readonly #burstBytes: number;
  /** Tokens held at #at (0 ≤ tokens ≤ burst); #at may lie ahead of now while a reservation waits. */
  #tokens: number;
  #at: number;

  constructor(bytesPerSecond: number, burstBytes: number, createdAt: number, initialBytes = 0) {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) throw new Error(`a token bucket needs a positive finite rate, got ${bytesPerSecond}`);
    if (!(burstBytes >= 0) || !(initialBytes >= 0) || initialBytes > burstBytes) throw new Error(`a token bucket needs 0 ≤ initial ${initialBytes} ≤ burst ${burstBytes}`);
    this.#bytesPerMs = bytesPerSecond / 1000;
    this.#burstBytes = burstBytes;
    this.#tokens = initialBytes;
    this.#at = createdAt;
  }

  /** Reserves `bytes` and returns the milliseconds to wait from `now` until they may go (0: at once). */
  reserve(bytes: number, now: number): number {
    if (!(bytes >= 0)) throw new Error(`a reservation needs a byte count, got ${bytes}`);
    // The bucket as of `now`, or as of the moment the reservations before this one are admitted.
    const from = Math.max(now, this.#at);
    const tokens = now > this.#at ? Math.min(this.#burstBytes, this.#tokens + (now - this.#at) * this.#bytesPerMs) : this.#tokens;
    if (tokens >= bytes) {
      this.#tokens = tokens - bytes;
      this.#at = from;
    } else {
      // Admitted once the missing bytes have accrued, which leaves the bucket empty.
      this.#tokens = 0;
      this.#at = from + (bytes - tokens) / this.#bytesPerMs;
    }
    return this.#at - now;
  }
}
