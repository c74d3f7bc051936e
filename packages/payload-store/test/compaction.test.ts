import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadStore, PayloadRef } from '../src/index.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

describe('compaction', () => {
  it('moves live payloads, resolves old and new refs until commit, then only the new ones', async () => {
    const dir = tempDir();
    await using store = await PayloadStore.open(dir, { segmentBytes: 128, durability: { mode: 'explicit' } });
    const keep = [store.append(bytes('keep me')), store.append(bytes('keep me too'))];
    const drop = store.appendBatch([bytes('drop me'), bytes('and me')]);
    const plan = await store.compact(keep, { seal: true });
    const raced = store.append(bytes('appended during compaction'));
    expect(plan.mapping.size).toBe(2);
    const moved = keep.map((ref) => plan.mapping.get(PayloadRef.key(ref)) as PayloadRef);
    for (const [index, ref] of keep.entries()) {
      expect(plain(store.read(ref))).toEqual(plain(store.read(moved[index] as PayloadRef)));
    }
    expect(store.pendingCompaction()).toBe(plan);
    expect(await codeOf(() => store.compact([]))).toBe('KEEL_BAD_ARGUMENT');
    const before = store.diskUsage();
    await plan.commit();
    expect(plan.state).toBe('committed');
    expect(store.diskUsage()).toBeLessThan(before);
    expect(store.pendingCompaction()).toBeNull();
    expect(plain(store.read(moved[0] as PayloadRef))).toEqual(bytes('keep me'));
    expect(plain(store.read(raced))).toEqual(bytes('appended during compaction'));
    expect(await codeOf(() => store.read(keep[0] as PayloadRef))).toBe('KEEL_NOT_FOUND');
    expect(await codeOf(() => store.read(drop[0] as PayloadRef))).toBe('KEEL_NOT_FOUND');
    expect(readdirSync(dir).filter((name) => name.endsWith('.mapping'))).toEqual([]);
    await plan.commit();
    expect(await codeOf(() => plan.abort())).toBe('KEEL_BAD_ARGUMENT');
  });

  it('abort removes the new segment and leaves the old refs as they were', async () => {
    const dir = tempDir();
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    const keep = store.append(bytes('still here'));
    const plan = await store.compact([keep], { seal: true });
    const output = plan.output as number;
    expect(existsSync(`${dir}/${String(output).padStart(10, '0')}.seg`)).toBe(true);
    await plan.abort();
    expect(existsSync(`${dir}/${String(output).padStart(10, '0')}.seg`)).toBe(false);
    expect(plain(store.read(keep))).toEqual(bytes('still here'));
    expect(await codeOf(() => store.read(plan.resolve(keep)))).toBe('KEEL_NOT_FOUND');
  });

  it('keeps a finished, uncommitted compaction across reopen so the caller can commit it', async () => {
    const dir = tempDir();
    const keep = await (async () => {
      await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
      const ref = store.append(bytes('survivor'));
      await store.compact([ref], { seal: true });
      return ref;
    })();
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    const plan = store.pendingCompaction();
    expect(plan).not.toBeNull();
    expect(store.recovery.actions.map((action) => action.kind)).toContain('kept-pending');
    const moved = plan?.resolve(keep) as PayloadRef;
    expect(plain(store.read(keep))).toEqual(bytes('survivor'));
    expect(plain(store.read(moved))).toEqual(bytes('survivor'));
    await plan?.commit();
    expect(await codeOf(() => store.read(keep))).toBe('KEEL_NOT_FOUND');
    expect(plain(store.read(moved))).toEqual(bytes('survivor'));
  });

  it('aborts without deleting anything when a live payload cannot be read', async () => {
    const dir = tempDir();
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    const good = store.append(bytes('intact'));
    const bogus = { segment: good.segment, offset: good.offset + 1, length: 3 };
    const files = readdirSync(dir).sort();
    expect(await codeOf(() => store.compact([good, bogus], { seal: true }))).toBe('KEEL_CORRUPT');
    expect(plain(store.read(good))).toEqual(bytes('intact'));
    expect(store.pendingCompaction()).toBeNull();
    // Only the segment the seal created is new.
    expect(readdirSync(dir).filter((name) => !files.includes(name))).toHaveLength(1);
  });

  it('leaves refs outside the sealed sources alone and compacts with a seal handle', async () => {
    await using store = await PayloadStore.open(tempDir(), { durability: { mode: 'explicit' } });
    const old = store.append(bytes('old'));
    const handle = store.seal();
    const fresh = store.append(bytes('fresh'));
    const plan = await store.compact([old, fresh], { seal: handle });
    expect([...plan.mapping.keys()]).toEqual([PayloadRef.key(old)]);
    expect(plan.resolve(fresh)).toBe(fresh);
    await plan.commit();
    expect(plain(store.read(plan.resolve(old)))).toEqual(bytes('old'));
    expect(plain(store.read(fresh))).toEqual(bytes('fresh'));
  });
});
