import { appendFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadStore, SEGMENT_HEADER_BYTES, type PayloadRef } from '../src/index.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

async function writeSome(dir: string, count: number): Promise<{ refs: PayloadRef[]; path: string }> {
  await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
  const refs = store.appendBatch(Array.from({ length: count }, (_, index) => bytes(`payload number ${index}`)));
  await store.sync();
  return { refs, path: store.segments().at(-1)?.path as string };
}

describe('torn tail recovery', () => {
  it('saves a torn active-segment tail beside the file, truncates it and keeps every whole payload', async () => {
    const dir = tempDir();
    const { refs, path } = await writeSome(dir, 5);
    const size = statSync(path).size;
    const last = refs.at(-1) as PayloadRef;
    truncateSync(path, last.offset + 10);
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    const report = store.recovery;
    expect(report.tailState).toBe('truncated-payload');
    expect(report.discardedBytes).toBe(10);
    expect(report.records).toBe(4);
    expect(report.savedTailPath).toBeDefined();
    expect(readFileSync(report.savedTailPath as string)).toHaveLength(10);
    expect(statSync(path).size).toBe(last.offset);
    for (const ref of refs.slice(0, 4)) expect(store.read(ref)).toHaveLength(ref.length);
    expect(await codeOf(() => store.read(last))).toBe('KEEL_BAD_ARGUMENT');
    const next = store.append(bytes('after recovery'));
    expect(next.offset).toBe(last.offset);
    await store.sync();
    expect(size).toBeGreaterThan(last.offset);
  });

  it('is idempotent: a second open finds a clean store', async () => {
    const dir = tempDir();
    const { path } = await writeSome(dir, 3);
    appendFileSync(path, Buffer.from([0x4b, 0x50, 0x4c, 0x01, 0xff]));
    await (await PayloadStore.open(dir)).close();
    await using store = await PayloadStore.open(dir);
    expect(store.recovery.tailState).toBe('clean-end');
    expect(store.recovery.actions).toEqual([]);
  });

  it('strict refuses a torn tail and changes nothing', async () => {
    const dir = tempDir();
    const { path } = await writeSome(dir, 3);
    appendFileSync(path, Buffer.from([0, 0, 0]));
    const before = readFileSync(path);
    expect(await codeOf(() => PayloadStore.open(dir, { recovery: 'strict' }))).toBe('KEEL_CORRUPT');
    expect(readFileSync(path)).toEqual(before);
  });

  it('restarts a newest segment whose header never became durable, saving its bytes', async () => {
    const dir = tempDir();
    const { refs, path } = await writeSome(dir, 2);
    const torn = `${dir}/0000000002.seg`;
    // A crash during creation: the first bytes of segment 2's header (its magic), then nothing.
    writeFileSync(torn, readFileSync(path).subarray(0, 4));
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    expect(store.recovery.actions.map((action) => action.kind)).toEqual(['saved-tail', 'truncated-tail']);
    expect(existsSync(`${torn}.torn-0`)).toBe(true);
    expect(statSync(torn).size).toBe(SEGMENT_HEADER_BYTES);
    expect(store.append(bytes('new')).segment).toBe(2);
    expect(plain(store.read(refs[0] as PayloadRef))).toEqual(bytes('payload number 0'));
  });

  it('refuses a segment whose header is damaged when payloads follow it, even if the damage looks like a tear', async () => {
    const dir = tempDir();
    const { path } = await writeSome(dir, 2);
    const damaged = readFileSync(path);
    damaged[SEGMENT_HEADER_BYTES - 1] = 0;
    damaged[SEGMENT_HEADER_BYTES - 2] = 0;
    writeFileSync(path, damaged);
    expect(await codeOf(() => PayloadStore.open(dir))).toBe('KEEL_CORRUPT');
    expect(readFileSync(path)).toEqual(damaged);
  });

  it('refuses a foreign file named like a segment and leaves it untouched', async () => {
    const dir = tempDir();
    await writeSome(dir, 1);
    writeFileSync(`${dir}/0000000007.seg`, 'this is not ours at all');
    expect(await codeOf(() => PayloadStore.open(dir))).toBe('KEEL_CORRUPT');
    expect(readFileSync(`${dir}/0000000007.seg`, 'utf8')).toBe('this is not ours at all');
  });
});
