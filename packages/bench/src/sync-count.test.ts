import { expect, test } from 'vitest';
import { countSyncCalls } from './sync-count.js';

test('only sync calls between the two markers are counted, resumed halves not twice', () => {
  const trace = [
    '100 fdatasync(3) = 0',
    '100 access("/keel-bench-marker-begin", F_OK) = -1 ENOENT (No such file or directory)',
    '101 fdatasync(17 <unfinished ...>',
    '100 msync(0x7f, 4096, MS_SYNC) = 0',
    '101 <... fdatasync resumed>) = 0',
    '102 fsync(18) = 0',
    '100 access("/keel-bench-marker-end", F_OK) = -1 ENOENT (No such file or directory)',
    '101 fdatasync(17) = 0',
  ].join('\n');
  expect(countSyncCalls(trace)).toBe(3);
});
