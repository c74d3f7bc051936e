import { describe, expect, it } from 'vitest';
import { assertPath, assertPayloads, describeType, nativeIo, normalizeDurability, normalizeIo, normalizeRecoveryPolicy } from '../src/index.js';

describe('assertPayloads', () => {
  it('accepts arrays of byte arrays within the bound', () => {
    expect(() => assertPayloads([new Uint8Array(3), Buffer.alloc(0)], 3)).not.toThrow();
  });

  it('names the first bad element with a stable code', () => {
    expect(() => assertPayloads('x', 3)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    expect(() => assertPayloads([new Uint8Array(1), 'x'], 3)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    expect(() => assertPayloads([new Uint8Array(4)], 3)).toThrow(expect.objectContaining({ code: 'KEEL_TOO_LARGE' }));
  });
});

describe('validation at the edge', () => {
  it('describes every type it is given, undefined and bigints included', () => {
    expect(describeType(undefined)).toBe('undefined');
    expect(describeType(5n)).toBe('a bigint 5n');
    expect(describeType(Object.create(null))).toBe('an object (Object)');
  });

  it('turns bigints and other wrong types in shared options into KEEL_BAD_ARGUMENT, never a TypeError', () => {
    const bad = { code: 'KEEL_BAD_ARGUMENT' };
    expect(() => normalizeDurability({ mode: 1n } as never)).toThrow(expect.objectContaining(bad));
    expect(() => normalizeDurability({ mode: 'every-n', n: 5n } as never)).toThrow(expect.objectContaining(bad));
    expect(() => normalizeDurability({ mode: 'interval', ms: 5n } as never)).toThrow(expect.objectContaining(bad));
    expect(() => normalizeDurability(Symbol('x') as never)).toThrow(expect.objectContaining(bad));
    expect(() => normalizeRecoveryPolicy(1n as never)).toThrow(expect.objectContaining(bad));
    expect(() => normalizeIo({}, nativeIo)).toThrow(expect.objectContaining(bad));
    expect(() => normalizeIo(1n, nativeIo)).toThrow(expect.objectContaining(bad));
    expect(normalizeIo(undefined, nativeIo)).toBe(nativeIo);
  });

  it('takes the parameterless durability modes by name, and nothing else as a string', () => {
    expect(normalizeDurability('none')).toEqual({ mode: 'none' });
    expect(normalizeDurability('every-write')).toEqual({ mode: 'every-write' });
    expect(normalizeDurability('explicit')).toEqual({ mode: 'explicit' });
    for (const name of ['every-n', 'interval', 'EXPLICIT', '']) {
      expect(() => normalizeDurability(name as never)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    }
  });

  it('refuses a NUL byte in any path the native Io is given, before the OS sees it', async () => {
    const bad = { code: 'KEEL_BAD_ARGUMENT' };
    const path = '/tmp/keel\0x';
    expect(() => nativeIo.open(path, { create: true })).toThrow(expect.objectContaining(bad));
    expect(() => nativeIo.stat(path)).toThrow(expect.objectContaining(bad));
    expect(() => nativeIo.list(path)).toThrow(expect.objectContaining(bad));
    expect(() => nativeIo.mkdir(path)).toThrow(expect.objectContaining(bad));
    expect(() => nativeIo.remove(path)).toThrow(expect.objectContaining(bad));
    expect(() => nativeIo.rename('/tmp/keel-none', path)).toThrow(expect.objectContaining(bad));
    expect(() => nativeIo.syncDirSync(path)).toThrow(expect.objectContaining(bad));
    expect(() => assertPath('')).toThrow(expect.objectContaining(bad));
  });
});
