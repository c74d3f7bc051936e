import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PayloadStore, type PayloadRef } from '../src/index.js';
import { bytes, codeOf, tempDir } from './helpers.js';

const name = (segment: number, suffix: string) => `${String(segment).padStart(10, '0')}${suffix}`;

function contents(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).sort().map((file) => [file, readFileSync(join(dir, file)).toString('hex')]));
}

describe('a refused open changes nothing', () => {
  it('an interrupted commit is not finished when the active segment then turns out damaged', async () => {
    const dir = tempDir();
    let first: PayloadRef;
    {
      await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' }, segmentBytes: 104 });
      first = store.append(bytes('first payload, segment one'));
      store.append(bytes('second payload, segment two'));
      store.append(bytes('third payload, segment three'));
      const plan = await store.compact([first], { seal: false });
      expect([plan.output, plan.sources]).toEqual([4, [1, 2]]);
    }
    {
      // More payloads in the active segment, so that damage to its first one has valid frames after it.
      await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
      store.append(bytes('fourth'));
      store.append(bytes('fifth'));
    }
    const active = join(dir, name(3, '.seg'));
    const damaged = readFileSync(active);
    damaged[20 + 8 + 2] = (damaged[20 + 8 + 2] as number) ^ 0x40;
    writeFileSync(active, damaged);
    // The commit had removed one source when the process died.
    rmSync(join(dir, name(1, '.seg')));
    const before = contents(dir);
    expect(await codeOf(() => PayloadStore.open(dir))).toBe('KEEL_CORRUPT');
    expect(contents(dir)).toEqual(before);
    expect([...before.keys()]).toContain(name(2, '.seg'));
    expect([...before.keys()]).toContain(name(4, '.mapping'));
  });
});
