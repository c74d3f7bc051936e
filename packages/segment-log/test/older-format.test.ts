// Logs written by the previous segment format (version 2: one frame per record), as that
// build left them: one closed cleanly, one whose writer stopped without closing. This build
// reads format 3 (batch frames) only, so it must refuse both at open, say which version it
// found and what to do, and change nothing: no truncated "torn tail", no rebuilt index, no
// removed clean-shutdown record, whatever recovery would otherwise do first.
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { tempDir } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/format-2/', import.meta.url));

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name)).toString('hex')]));
}

describe('a log of segment format 2', () => {
  for (const fixture of ['closed', 'crashed']) {
    for (const readOnly of [false, true]) {
      it(`${fixture}, opened ${readOnly ? 'read-only' : 'to write'}: refused with KEEL_CORRUPT naming the version, every file untouched`, async () => {
        const dir = tempDir();
        cpSync(join(FIXTURES, fixture), dir, { recursive: true });
        const before = contents(dir);
        const error = await SegmentLog.open(dir, { readOnly }).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toMatchObject({ code: 'KEEL_CORRUPT', path: join(dir, `${'0'.repeat(20)}.log`), offset: 0 });
        expect((error as Error).message).toMatch(/segment format version 2, .*this build reads version 3: read the records with the version that wrote them/);
        expect(contents(dir)).toEqual(before);
      });
    }
  }
});
