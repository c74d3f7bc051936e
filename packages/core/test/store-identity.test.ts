import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreIdentity, nativeIo, sameStoreId } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

const IDENTITY = new StoreIdentity('ID', 0x4b54_5354);

describe('StoreIdentity', () => {
  const tempDir = useTempDir();

  it('writes a fresh id durably and reads it back', async () => {
    const dir = tempDir();
    expect(IDENTITY.survey(nativeIo, dir)).toEqual({ state: 'absent' });
    const storeId = await IDENTITY.write(nativeIo, dir, false);
    const found = IDENTITY.survey(nativeIo, dir);
    expect(found.state).toBe('valid');
    expect(found.state === 'valid' && sameStoreId(found.storeId, storeId)).toBe(true);
  });

  it('tells a torn creation of ours from a file that is not ours', async () => {
    const dir = tempDir();
    await IDENTITY.write(nativeIo, dir, false);
    const whole = new Uint8Array(readFileSync(join(dir, 'ID')));
    const torn = whole.slice(0, 14);
    torn[1] = 0; // a hole inside the magic: pieces kept, the rest zeros
    expect(IDENTITY.decode(torn)).toEqual({ state: 'torn' });
    expect(IDENTITY.decode(new Uint8Array(0))).toEqual({ state: 'torn' });
    expect(IDENTITY.decode(new TextEncoder().encode('not ours')).state).toBe('foreign');
    expect(new StoreIdentity('ID', 0x4b54_5355).decode(whole).state).toBe('foreign');
  });

  it('never overwrites a file it did not prove to be its own torn creation', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'elsewhere'), 'keep');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'ID'));
    await expect(IDENTITY.write(nativeIo, dir, false)).rejects.toMatchObject({ code: 'KEEL_IO' });
    expect(readFileSync(join(dir, 'elsewhere'), 'utf8')).toBe('keep');
  });
});
