import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeIo } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { FaultFs, STORE_DIR, makePayload, materialiseToDirectory, referenceLogAdapter, runFileDamage, runKillTest } from '../src/index.js';

describe('real files: the reference log', () => {
  it('refuses or reports every truncation, zeroed tail and bit flip of a small log', async () => {
    const summary = await runFileDamage(referenceLogAdapter());
    expect(summary.cases).toBeGreaterThan(0);
    expect(summary.opened + summary.refused).toBe(summary.cases);
  });
});

describe('a SIGKILLed writer: the reference log', () => {
  it('keeps every acknowledged record, as a prefix, over several killed writers', async () => {
    const result = await runKillTest(referenceLogAdapter(), {
      adapterModule: new URL('../src/reference/adapter.ts', import.meta.url).href,
      exportName: 'referenceAdapter',
    });
    expect(result.rounds).toBe(2);
    expect(result.acknowledged).toBeGreaterThan(0);
  });
});

describe('a FaultFs crash state on a real directory', () => {
  it('opens on the native Io with every synced record and nothing unsynced past a torn write', async () => {
    const fs = new FaultFs();
    const adapter = referenceLogAdapter();
    const store = await adapter.open(fs, STORE_DIR, { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
    const payloads = [makePayload(1, 10), makePayload(2, 20), makePayload(3, 30)];
    adapter.append(store, payloads[0] as Uint8Array);
    adapter.append(store, payloads[1] as Uint8Array);
    await adapter.sync(store);
    adapter.append(store, payloads[2] as Uint8Array);
    const root = mkdtempSync(join(tmpdir(), 'keel-materialise-'));
    try {
      materialiseToDirectory(fs, { seed: 3, data: { mode: 'torn', granularity: 1 }, entries: 'keep-all' }, root);
      const real = await adapter.open(nativeIo, join(root, STORE_DIR), { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
      const found = (await adapter.read(real)).map((record) => record.payload);
      await adapter.close(real);
      expect(found.slice(0, 2)).toEqual(payloads.slice(0, 2));
      expect(found.length === 2 || (found.length === 3 && Buffer.compare(found[2] as Uint8Array, payloads[2] as Uint8Array) === 0)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
