import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { RawFsLog } from './raw-fs.js';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'keel-bench-raw-fs-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const batch = [Buffer.alloc(3000, 1), Buffer.alloc(1000, 2)];

test('over pre-written space the batches overwrite the file and never grow it', () => {
  const log = new RawFsLog(directory, 'prewritten.log', 3 * 4000 + 100);
  try {
    expect(statSync(join(directory, 'prewritten.log')).size).toBe(12_100);
    for (let index = 0; index < 3; index++) log.appendBatchDurably(batch);
    expect(log.position).toBe(12_000);
    expect(statSync(join(directory, 'prewritten.log')).size).toBe(12_100);
    // A fourth batch would append past the pre-written bytes: refused rather than measured as an overwrite.
    expect(() => log.appendBatchDurably(batch)).toThrow(/pre-written bytes are used up/);
  } finally {
    log.close();
  }
});

test('without pre-written space the batches append', () => {
  const log = new RawFsLog(directory, 'appended.log');
  try {
    for (let index = 0; index < 3; index++) log.appendBatchDurably(batch);
    expect(statSync(join(directory, 'appended.log')).size).toBe(12_000);
  } finally {
    log.close();
  }
});
