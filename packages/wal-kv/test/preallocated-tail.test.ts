import { cpSync, openSync, closeSync, readFileSync, statSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { LOG_HEADER_FRAME_BYTES, encodeLogHeader, decodeLogHeader } from '../src/format.js';
import { bytes, expectCode, logPath, temporaryDir, text } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;
const KEYS = 200;

function key(index: number): string {
  return `key-${index}`;
}

/** A writable store with KEYS durable keys whose log, copied now, is what a crash would leave: records, then zeros. */
async function crashedCopy(): Promise<{ dir: string; logBytes: number }> {
  const live = temporaryDir();
  const copy = temporaryDir();
  const kv = await WalKv.open(live, { durability: EXPLICIT });
  for (let index = 0; index < KEYS; index++) kv.put(key(index), bytes(`value ${index}`));
  await kv.sync();
  const { logBytes } = kv.stats();
  cpSync(live, copy, { recursive: true });
  await kv.close();
  return { dir: copy, logBytes };
}

async function expectKeys(kv: WalKv, count: number): Promise<void> {
  expect(kv.size).toBe(count);
  for (let index = 0; index < count; index++) expect(text(kv.get(key(index)))).toBe(`value ${index}`);
}

function writeAt(path: string, data: Uint8Array, position: number): void {
  const descriptor = openSync(path, 'r+');
  try {
    writeSync(descriptor, data, 0, data.length, position);
  } finally {
    closeSync(descriptor);
  }
}

describe('a preallocated log (format version 4)', () => {
  it('has zeros written ahead of its records while open, and ends with its last record after a clean close', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir, { durability: EXPLICIT });
    kv.put('a', bytes('1'));
    await kv.sync();
    const { logBytes } = kv.stats();
    expect(statSync(logPath(dir)).size).toBeGreaterThan(logBytes);
    const file = readFileSync(logPath(dir));
    expect(file.subarray(logBytes).every((byte) => byte === 0)).toBe(true);
    await kv.close();
    expect(statSync(logPath(dir)).size).toBe(logBytes);
  });

  it('opens after a crash, even strict, with its zero tail as the end: reported, not repaired, the zeros left in place, later writes over them', async () => {
    const { dir, logBytes } = await crashedCopy();
    const size = statSync(logPath(dir)).size;
    expect(size).toBeGreaterThan(logBytes);
    const kv = await WalKv.open(dir, { durability: EXPLICIT, recovery: 'strict' });
    expect(kv.recovery.tailState).toBe('clean-end');
    expect(kv.recovery.validBytes).toBe(logBytes);
    expect(kv.recovery.discardedBytes).toBe(0);
    expect(kv.recovery.actions).toEqual([{ kind: 'preallocated-tail', path: logPath(dir), offset: logBytes, bytes: size - logBytes }]);
    expect(statSync(logPath(dir)).size).toBe(size);
    await expectKeys(kv, KEYS);
    kv.put(key(KEYS), bytes(`value ${KEYS}`));
    await kv.sync();
    await kv.close();
    const reopened = await WalKv.open(dir, { recovery: 'strict' });
    expect(reopened.recovery.actions).toEqual([]);
    await expectKeys(reopened, KEYS + 1);
    await reopened.close();
  });

  it('treats a torn record before the zeros as a torn tail: saved and cut, or refused strict', async () => {
    const { dir, logBytes } = await crashedCopy();
    // The first bytes of a record frame (its magic and length) where the next record would go.
    const log = logPath(dir);
    const torn = readFileSync(log).subarray(LOG_HEADER_FRAME_BYTES, LOG_HEADER_FRAME_BYTES + 12);
    writeAt(log, torn, logBytes);
    await expectCode(() => WalKv.open(dir, { recovery: 'strict' }), 'KEEL_CORRUPT');
    const kv = await WalKv.open(dir);
    expect(kv.recovery.validBytes).toBe(logBytes);
    expect(kv.recovery.actions.map((action) => action.kind)).toEqual(['saved-tail', 'truncated-tail']);
    expect(statSync(log).size).toBe(logBytes);
    await expectKeys(kv, KEYS);
    await kv.close();
  });

  it('reads and appends to a version 3 log without preallocating it, where a zero tail is still damage', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir, { durability: EXPLICIT });
    for (let index = 0; index < KEYS; index++) kv.put(key(index), bytes(`value ${index}`));
    await kv.close();
    const log = logPath(dir);
    const header = decodeLogHeader(readFileSync(log), log);
    writeAt(log, encodeLogHeader({ ...header, version: 3 }), 0);

    const older = await WalKv.open(dir, { durability: EXPLICIT });
    older.put(key(KEYS), bytes(`value ${KEYS}`));
    await older.sync();
    const { logBytes } = older.stats();
    expect(statSync(log).size).toBe(logBytes);
    await older.close();

    writeAt(log, new Uint8Array(4096), logBytes);
    await expectCode(() => WalKv.open(dir, { recovery: 'strict' }), 'KEEL_CORRUPT');
    const reopened = await WalKv.open(dir);
    expect(reopened.recovery.actions.map((action) => action.kind)).toEqual(['saved-tail', 'truncated-tail']);
    await expectKeys(reopened, KEYS + 1);
    await reopened.close();
  });
});
