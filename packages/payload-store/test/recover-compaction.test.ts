import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadStore, type PayloadRef } from '../src/index.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

const OPTIONS = { durability: { mode: 'explicit' } } as const;

/** A store with one durable, uncommitted compaction; returns the refs before and after. */
async function pendingStore(dir: string): Promise<{ old: PayloadRef; moved: PayloadRef; output: number; sources: readonly number[] }> {
  await using store = await PayloadStore.open(dir, OPTIONS);
  const old = store.append(bytes('moving payload'));
  store.append(bytes('garbage'));
  const plan = await store.compact([old], { seal: true });
  return { old, moved: plan.resolve(old), output: plan.output as number, sources: plan.sources };
}

const name = (segment: number, suffix: string) => `${String(segment).padStart(10, '0')}${suffix}`;

describe('recovery of an interrupted compaction', () => {
  it('finishes a commit that removed some sources before the crash', async () => {
    const dir = tempDir();
    const { old, moved, sources } = await pendingStore(dir);
    rmSync(`${dir}/${name(sources[0] as number, '.seg')}`);
    await using store = await PayloadStore.open(dir, OPTIONS);
    expect(store.recovery.actions.map((action) => action.kind)).toContain('completed-switch');
    expect(store.pendingCompaction()).toBeNull();
    expect(plain(store.read(moved))).toEqual(bytes('moving payload'));
    expect(await codeOf(() => store.read(old))).toBe('KEEL_NOT_FOUND');
    expect(readdirSync(dir).filter((file) => file.endsWith('.mapping'))).toEqual([]);
  });

  it('rolls back a compaction whose output never got its final name', async () => {
    const dir = tempDir();
    const { old, output } = await pendingStore(dir);
    renameSync(`${dir}/${name(output, '.seg')}`, `${dir}/${name(output, '.seg.compacting')}`);
    await using store = await PayloadStore.open(dir, OPTIONS);
    expect(store.recovery.actions.map((action) => action.kind)).toEqual(['removed-temporary', 'removed-temporary']);
    expect(store.pendingCompaction()).toBeNull();
    expect(plain(store.read(old))).toEqual(bytes('moving payload'));
    expect(existsSync(`${dir}/${name(output, '.mapping')}`)).toBe(false);
  });

  it('strict refuses leftovers and changes nothing; a damaged mapping beside its output is refused', async () => {
    const dir = tempDir();
    const { output } = await pendingStore(dir);
    writeFileSync(`${dir}/${name(output + 5, '.seg.compacting')}`, 'half written');
    const before = readdirSync(dir).sort();
    expect(await codeOf(() => PayloadStore.open(dir, { recovery: 'strict' }))).toBe('KEEL_CORRUPT');
    expect(readdirSync(dir).sort()).toEqual(before);
    rmSync(`${dir}/${name(output + 5, '.seg.compacting')}`);
    // A pending compaction alone is not damage: strict opens it.
    await (await PayloadStore.open(dir, { recovery: 'strict' })).close();
    writeFileSync(`${dir}/${name(output, '.mapping')}`, 'not a mapping any more');
    expect(await codeOf(() => PayloadStore.open(dir))).toBe('KEEL_CORRUPT');
  });
});
