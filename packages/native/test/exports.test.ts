import { describe, expect, it } from 'vitest';

import * as native from '../src/index.js';

describe('@keel/native exports', () => {
  it('exposes exactly the documented API', () => {
    expect(Object.keys(native).sort()).toEqual(
      [
        'FRAME_SCAN_STOP',
        'KeyTable',
        'SyncThread',
        'NativeFile',
        'addressOffset',
        'allocAligned',
        'decodeScan',
        'faultInFreshMemory',
        'scanFrames',
        'sealFrames',
        'crc32',
        'crc32c',
        'createDirSync',
        'isAligned',
        'listDirSync',
        'md5',
        'sha256',
        'removeFile',
        'removeFileSync',
        'renameDurable',
        'renameDurableSync',
        'renameSync',
        'statSync',
        'syncDir',
        'syncDirSync',
        'verifiedCopy',
        'verifiedValueRun',
      ].sort(),
    );
    for (const [name, value] of Object.entries(native)) {
      expect(typeof value, name).toBe(name === 'FRAME_SCAN_STOP' ? 'object' : 'function');
    }
    for (const method of [
      'writeSync', 'writeDatasyncSync', 'writevSync', 'write', 'writev', 'readSync', 'read', 'sizeSync', 'setLengthSync',
      'datasyncSync', 'datasync', 'fsyncSync', 'fsync', 'preallocateSync', 'adviseSync', 'mapSync',
      'closeSync', 'close',
    ]) {
      expect(typeof (native.NativeFile.prototype as unknown as Record<string, unknown>)[method], method).toBe('function');
    }
    expect(typeof native.NativeFile.open).toBe('function');
  });
});
