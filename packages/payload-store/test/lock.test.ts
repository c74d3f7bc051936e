import { describe, expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { codeOf, tempDir } from './helpers.js';

describe('directory lock', () => {
  it('refuses a second open of the same directory with KEEL_LOCKED until the first closes', async () => {
    const dir = tempDir();
    const first = await PayloadStore.open(dir);
    expect(await codeOf(() => PayloadStore.open(dir))).toBe('KEEL_LOCKED');
    await first.close();
    await first.close();
    const second = await PayloadStore.open(dir);
    await second.close();
  });
});
