import { describe, expect, it } from 'vitest';
import { assertPayloads } from '../src/index.js';

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
