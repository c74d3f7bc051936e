import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { joinPath, parentDir } from '../src/index.js';

describe('path arithmetic', () => {
  it('treats trailing and doubled slashes as the operating system does', () => {
    expect(parentDir('/store/wal.log')).toBe('/store');
    expect(parentDir('/store/')).toBe('/');
    expect(parentDir('/store//wal.log')).toBe('/store');
    expect(parentDir('wal.log')).toBe('.');
    expect(parentDir('/')).toBe('/');
    expect(joinPath('/store/', 'LOCK')).toBe('/store/LOCK');
    expect(joinPath('/store//', 'LOCK')).toBe('/store/LOCK');
    expect(joinPath('store', 'LOCK')).toBe('store/LOCK');
  });

  it('gives back the directory a joined name was put in', () => {
    const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/).filter((name) => name !== '.' && name !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), segment, (parts, name) => {
        const dir = `/${parts.join('/')}`;
        expect(parentDir(joinPath(dir, name))).toBe(posix.normalize(dir));
      }),
    );
  });
});
