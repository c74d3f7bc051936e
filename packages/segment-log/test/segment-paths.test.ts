import { joinPath } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { segmentName, segmentPaths } from '../src/format.js';

const part = fc.constantFrom('', '.', '..', 'a', 'store', 'x y', 'dir.log', '00000000000000000000');
const dirs = fc.oneof(
  fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')),
  fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.constantFrom('/', '.', './', '//', 'a//b/', '../up/'),
);

it('names the files of a segment exactly as joining the directory and each file name does, for any directory spelling', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(dirs, fc.nat({ max: Number.MAX_SAFE_INTEGER })), { minLength: 1, maxLength: 4 }), (calls) => {
      // Several directories in turn: the prefix kept for one never leaks into another's paths.
      for (const [dir, baseOffset] of calls) {
        const name = segmentName(baseOffset);
        expect(segmentPaths(dir, baseOffset)).toEqual({
          log: joinPath(dir, `${name}.log`),
          offsetIndex: joinPath(dir, `${name}.index`),
          timeIndex: joinPath(dir, `${name}.timeindex`),
        });
      }
    }),
    { numRuns: 500 },
  );
});
