/**
 * Where an encoded run's batch frames lie: frame `i` holds records from `firstRecord[i]`
 * (a batch index) up to the next frame's first, and ends at `end[i]` bytes from the run's
 * start (the first frame starts at 0, each later one where the one before ended). The
 * encoder fills it, the segment's accounting reads it; one table is reused run to run.
 */
export class FrameTable {
  count = 0;
  firstRecord = new Uint32Array(64);
  end = new Float64Array(64);

  reset(): void {
    this.count = 0;
  }

  push(firstRecord: number, end: number): void {
    if (this.count === this.end.length) this.#grow();
    this.firstRecord[this.count] = firstRecord;
    this.end[this.count] = end;
    this.count++;
  }

  #grow(): void {
    const firstRecord = new Uint32Array(this.count * 2);
    const end = new Float64Array(this.count * 2);
    firstRecord.set(this.firstRecord);
    end.set(this.end);
    this.firstRecord = firstRecord;
    this.end = end;
  }
}
