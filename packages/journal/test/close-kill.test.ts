import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChildUntilKilled } from '@keel/conformance';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { checkPayload } from './support/record-payload.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const CHILD = fileURLToPath(new URL('./support/close-kill-child.ts', import.meta.url));
/**
 * A close's disk operations: the final write and datasync of the journal, then the
 * record's temporary created, written, datasynced, renamed into place, and the directory
 * synced. The kill lands before the operation named: with the record's temporary whole
 * but unsynced, and with the record in place but its directory entry unsynced (each child
 * costs seconds, so not before every operation: the conformance suite crashes FaultFs at
 * every one); a child with no kill closes whole.
 */
const KILL_POINTS: readonly { step: number; before: string }[] = [
  { step: 5, before: 'datasync' },
  { step: 7, before: 'sync-dir' },
  { step: 8, before: 'nothing: the close completes' },
];

/** What the full check finds in a copy of the journal alone (no record beside it). */
async function fullCheck(path: string): Promise<{ validBytes: number; records: number }> {
  const copy = join(tempDir(), 'copy.wal');
  copyFileSync(path, copy);
  const journal = await Journal.open(copy, { readOnly: true });
  const { validBytes, records } = journal.recovery;
  await journal.close();
  return { validBytes, records };
}

test('a writer SIGKILLed inside its close loses nothing synced, and the next open trusts a record only once it is whole and removes whatever the kill left', async () => {
  let closed = false;
  for (const { step, before } of KILL_POINTS) {
    const dir = tempDir();
    const path = join(dir, 'wal');
    let synced = -1;
    let stoppedAt = '';
    const child = await runChildUntilKilled({
      script: CHILD,
      args: [path, String(step)],
      onLine(line) {
        if (line.startsWith('synced ')) synced = Number(line.slice(7));
        if (line === 'closed') closed = true;
        if (!line.startsWith('step ')) return false;
        stoppedAt = line;
        return true;
      },
    });
    expect(child.stderr).toBe('');
    expect(closed ? before.startsWith('nothing') : stoppedAt.startsWith(`step ${step} ${before} `)).toBe(true);
    expect(child.signal === 'SIGKILL' || closed).toBe(true);
    expect(synced).toBeGreaterThan(0);
    const full = await fullCheck(path);
    const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
    const trusted = journal.recovery.actions.some((action) => action.kind === 'trusted-clean-shutdown');
    // The record exists once its rename ran: from the directory sync that follows it on.
    expect(trusted, stoppedAt).toBe(closed || stoppedAt.includes(' sync-dir '));
    expect(journal.recovery).toMatchObject(full);
    const sequences = [...journal.records()].map((record) => checkPayload(record.payload));
    expect(sequences).toEqual(sequences.map((_, index) => index));
    expect(journal.nextLsn).toBeGreaterThanOrEqual(synced);
    // Whatever the kill left beside the journal is gone: the record consumed, a temporary removed.
    expect(readdirSync(dir)).toEqual(['wal']);
    await journal.close();
  }
  expect(closed).toBe(true);
});
