import { InterceptedIo, nativeIo, type IoMutation } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { contents, temporaryDir } from './helpers.js';

const NEW_LOG = /wal-2\.log\.tmp$/;
const SNAPSHOT_TEMPORARY = /snapshot-\d+\.snap\.tmp$/;

/**
 * An Io on which the new log's datasyncs after the switch finish only once the
 * install's snapshot has been written and datasynced (or named): the order a slow disk
 * under the log can give. It notes every snapshot named while the log it points into
 * was not yet durable.
 */
class SlowNewLogIo extends InterceptedIo {
  /** Whether the store has switched to the new log (set by the test once it has the store). */
  switched: () => boolean = () => false;
  newLogDurable = false;
  readonly namedEarly: string[] = [];
  #snapshotDone: () => void = () => undefined;
  readonly #snapshotDurable = new Promise<void>((resolve) => (this.#snapshotDone = resolve));

  constructor() {
    super(nativeIo);
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (operation === 'datasync' && NEW_LOG.test(path) && this.switched()) {
      await this.#snapshotDurable;
      const result = await run();
      this.newLogDurable = true;
      return result;
    }
    const result = await run();
    if (operation === 'datasync' && SNAPSHOT_TEMPORARY.test(path)) this.#snapshotDone();
    return result;
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (operation === 'rename' && SNAPSHOT_TEMPORARY.test(path)) {
      if (!this.newLogDurable) this.namedEarly.push(path);
      this.#snapshotDone();
    }
    return run();
  }
}

describe("a compaction's install", () => {
  it('names its snapshot only once the new log it points into is durable, however slow that log is', async () => {
    const dir = temporaryDir();
    const io = new SlowNewLogIo();
    const kv = await WalKv.open<string>(dir, { io, valueEncoding: 'utf8', checkpointEveryBytes: Infinity });
    io.switched = () => kv.stats().generation === 2;
    for (let i = 0; i < 300; i++) kv.put(`key-${i % 100}`, `value-${i}`);
    for (let i = 0; i < 100; i += 3) kv.delete(`key-${i}`);
    await kv.sync();
    const expected = contents(kv);
    await kv.compact();
    expect(io.newLogDurable).toBe(true);
    expect(io.namedEarly).toEqual([]);
    await kv.close();
    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(reopened.stats().generation).toBe(2);
    expect(contents(reopened)).toEqual(expected);
    await reopened.close();
  });
});
