import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_BYTES_MAX, PayloadStore, type PayloadRef } from '../src/index.js';
import { bytes, codeOf, tempDir } from './helpers.js';

function snapshot(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((name) => `${name}:${statSync(`${dir}/${name}`).size}`)
    .join(',');
}

describe('bad arguments', () => {
  it('refuses bad open options before touching disk', async () => {
    const dir = tempDir();
    const cases: unknown[] = [
      { segmentBytes: 1 },
      { segmentBytes: 1.5 },
      { durability: { mode: 'sometimes' } },
      { recovery: 'hope' },
      { io: {} },
      'options',
    ];
    for (const options of cases) expect(await codeOf(() => PayloadStore.open(`${dir}/x`, options as never))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => PayloadStore.open('' as string))).toBe('KEEL_BAD_ARGUMENT');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses bad payloads, refs and compaction options and changes nothing on disk', async () => {
    const dir = tempDir();
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    store.append(bytes('existing'));
    await store.sync();
    const before = snapshot(dir);
    expect(await codeOf(() => store.append('text' as unknown as Uint8Array))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.appendBatch([bytes('ok'), 7 as unknown as Uint8Array]))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.appendBatch('nope' as unknown as Uint8Array[]))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.read({ segment: 1, offset: 16, length: PAYLOAD_BYTES_MAX + 1 }))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.read(null as unknown as PayloadRef))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.compact('all' as unknown as PayloadRef[]))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.compact([{ segment: -1, offset: 0, length: 0 }]))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.compact([], { seal: 'yes' as unknown as boolean }))).toBe('KEEL_BAD_ARGUMENT');
    expect(snapshot(dir)).toBe(before);
  });

  it('refuses everything after close with KEEL_CLOSED', async () => {
    const store = await PayloadStore.open(tempDir());
    const ref = store.append(bytes('x'));
    await store.close();
    expect(await codeOf(() => store.append(bytes('y')))).toBe('KEEL_CLOSED');
    expect(await codeOf(() => store.read(ref))).toBe('KEEL_CLOSED');
    expect(await codeOf(() => store.sync())).toBe('KEEL_CLOSED');
    expect(await codeOf(() => store.seal())).toBe('KEEL_CLOSED');
    expect(await codeOf(() => store.compact([ref]))).toBe('KEEL_CLOSED');
    expect(await codeOf(() => store.segments())).toBe('KEEL_CLOSED');
    expect(store.stats().closed).toBe(true);
  });
});
