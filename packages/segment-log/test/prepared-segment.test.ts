import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterceptedIo, nativeIo, type IoMutation } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES, PREPARED_SEGMENT_NAME, segmentName } from '../src/format.js';
import { preparedFrame } from '../src/prepared-segment.js';
import { headerFrame } from '../src/segment-files.js';
import { bytes, codeOf, tempDir } from './helpers.js';
import { backgroundWorkSettled } from './support/background-work.js';

const EXPLICIT = { mode: 'explicit' } as const;
/** A record of a 100-byte value appended on its own: a frame of its own, the value taking 104 bytes in it. */
const RECORD_FRAME_BYTES = BATCH_OVERHEAD_BYTES + 104;
/** The header and four records appended one by one; one append's frame holds four of them too (a fifth passes it by 104 - 32 bytes). */
const SEGMENT_BYTES = HEADER_BYTES + 4 * RECORD_FRAME_BYTES;

/**
 * Counts the files an Io creates and its directory syncs, and can hold every directory
 * sync back (each waits, started, until `release`).
 */
class DirectorySyncGate extends InterceptedIo {
  creates = 0;
  directorySyncs = 0;
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = null;
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (operation === 'open-create') this.creates++;
    if (operation === 'sync-dir') this.directorySyncs++;
    return super.aroundSync(operation, path, run);
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (operation === 'sync-dir') {
      this.directorySyncs++;
      if (this.#gate !== null) await this.#gate;
    }
    return super.aroundAsync(operation, path, run);
  }
}

/**
 * Waits for what a roll leaves to background work (the sealed frames, then the rename and
 * the next prepared file); a retention pass queued after it (with no limit set, it deletes
 * nothing) ends after it too.
 */
async function backgroundWorkDone(log: SegmentLog): Promise<void> {
  await backgroundWorkSettled(log);
  expect(await log.enforceRetention()).toBe(0);
}

function values(from: number, count: number): { value: Uint8Array }[] {
  return Array.from({ length: count }, (_, index) => ({ value: bytes(`record-${String(from + index).padStart(3, '0')}`.padEnd(100, '.')) }));
}

function logName(baseOffset: number): string {
  return `${segmentName(baseOffset)}.log`;
}

/** The store id a log's first segment header names. */
function storeIdOf(dir: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, logName(0))).subarray(20, 36));
}

/** Every file of `dir` with its bytes, for "nothing changed" checks. */
function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).isDirectory() ? 'directory' : readFileSync(join(dir, name)).toString('base64')]));
}

/** A closed log of two segments (8 records, each appended on its own: a frame of its own) whose second one is the active one. */
async function twoSegments(dir: string): Promise<void> {
  const log = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
  for (const record of values(0, 8)) log.append(record);
  await log.sync();
  expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 4]);
  await log.close();
}

async function readAll(log: SegmentLog): Promise<string[]> {
  return log.read(log.startOffset, { maxBytes: 1 << 20 }).map((record) => new TextDecoder().decode(record.value).slice(0, 10));
}

describe('the next segment prepared ahead of its roll', () => {
  it('is made durably after a flush, taken by the append that rolls (which creates no file), renamed after the next flush and removed at close', async () => {
    const dir = tempDir();
    const io = new DirectorySyncGate(nativeIo);
    const log = await SegmentLog.open(dir, { io, durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    // Not once the active segment is less than half full.
    log.appendBatch(values(0, 1));
    await log.sync();
    await backgroundWorkDone(log);
    expect(existsSync(join(dir, PREPARED_SEGMENT_NAME))).toBe(false);
    log.appendBatch(values(1, 2));
    await log.sync();
    await backgroundWorkDone(log);
    expect(readFileSync(join(dir, PREPARED_SEGMENT_NAME))).toEqual(Buffer.from(preparedFrame(storeIdOf(dir))));
    const before = io.creates;
    // One more fills segment 0; the batch after it rolls (one that does not fit the rest of a segment starts the next).
    log.appendBatch(values(3, 1));
    log.appendBatch(values(4, 3));
    expect(io.creates).toBe(before);
    expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 4]);
    // The sync of the batch that rolled resolves while every directory sync is held back.
    io.hold();
    expect(await log.sync()).toBe(7);
    expect(existsSync(join(dir, logName(4)))).toBe(false);
    io.release();
    await backgroundWorkDone(log);
    expect(existsSync(join(dir, logName(4)))).toBe(true);
    // The background work that renamed it prepared the next one, the new segment being more than half full.
    expect(readFileSync(join(dir, PREPARED_SEGMENT_NAME))).toEqual(Buffer.from(preparedFrame(storeIdOf(dir))));
    expect(await readAll(log)).toEqual(values(0, 7).map(({ value }) => new TextDecoder().decode(value).slice(0, 10)));
    await log.close();
    expect(existsSync(join(dir, PREPARED_SEGMENT_NAME))).toBe(false);
    await using reopened = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    expect(reopened.recovery.actions).toEqual([]);
    expect(reopened.nextOffset).toBe(7);
  });

  it('works the same through syncSync, which syncs no directory for a roll into it', async () => {
    const dir = tempDir();
    const io = new DirectorySyncGate(nativeIo);
    const log = await SegmentLog.open(dir, { io, durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    log.appendBatch(values(0, 3));
    await log.sync();
    await backgroundWorkDone(log);
    log.appendBatch(values(3, 1));
    log.appendBatch(values(4, 2));
    const directorySyncs = io.directorySyncs;
    expect(log.syncSync()).toBe(6);
    expect(io.directorySyncs).toBe(directorySyncs);
    await log.close();
    expect(existsSync(join(dir, logName(4)))).toBe(true);
    await using reopened = await SegmentLog.open(dir, { durability: EXPLICIT });
    expect(reopened.recovery.actions).toEqual([]);
    expect(reopened.nextOffset).toBe(6);
  });

  it('does not stop retention: deleteBefore right after a roll into it deletes every segment below the new one, which takes its own name first', async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    log.appendBatch(values(0, 7));
    await log.sync();
    await backgroundWorkDone(log);
    expect(existsSync(join(dir, PREPARED_SEGMENT_NAME))).toBe(true);
    // Rolls into the prepared file; the flush it asks for and the deletion queue before the rename would.
    log.appendBatch(values(7, 1));
    log.appendBatch(values(8, 2));
    expect(await log.deleteBefore(log.nextOffset)).toBe(2);
    expect(log.segments().map((segment) => segment.baseOffset)).toEqual([8]);
    expect(existsSync(join(dir, logName(8)))).toBe(true);
    await log.close();
    await using reopened = await SegmentLog.open(dir, { durability: EXPLICIT });
    expect(reopened.recovery.actions).toEqual([]);
    expect([reopened.startOffset, reopened.nextOffset]).toEqual([8, 10]);
  });

  it('is left alone when a file not ours has its name, and the log rolls without it', async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    writeFileSync(join(dir, PREPARED_SEGMENT_NAME), 'not a segment');
    log.appendBatch(values(0, 6));
    await log.sync();
    log.appendBatch(values(6, 4));
    await log.sync();
    expect(readFileSync(join(dir, PREPARED_SEGMENT_NAME), 'utf8')).toBe('not a segment');
    expect(log.segments().length).toBe(3);
    await log.close();
    expect(readFileSync(join(dir, PREPARED_SEGMENT_NAME), 'utf8')).toBe('not a segment');
  });
});

describe('open and the prepared file', () => {
  it('takes a segment found under the prepared name (a crash came before its rename) for the segment its header names', async () => {
    const dir = tempDir();
    await twoSegments(dir);
    rmSync(join(dir, 'clean-shutdown'));
    renameSync(join(dir, logName(4)), join(dir, PREPARED_SEGMENT_NAME));
    await using log = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    expect(log.nextOffset).toBe(8);
    expect((await readAll(log)).length).toBe(8);
    expect(log.recovery.actions.map((action) => action.kind)).toContain('completed-switch');
    expect(existsSync(join(dir, logName(4)))).toBe(true);
    expect(existsSync(join(dir, PREPARED_SEGMENT_NAME))).toBe(false);
  });

  it('removes one no roll used, whole or as a crash can leave it', async () => {
    for (const shape of ['whole', 'prefix', 'holes', 'header over it', 'empty'] as const) {
      const dir = tempDir();
      await twoSegments(dir);
      const prepared = preparedFrame(storeIdOf(dir));
      const header = headerFrame(8, storeIdOf(dir));
      const contents = {
        whole: prepared,
        prefix: prepared.subarray(0, 17),
        holes: prepared.map((byte, index) => (index % 3 === 0 ? 0 : byte)),
        'header over it': Uint8Array.from(prepared, (byte, index) => (index < 24 ? (header[index] as number) : byte)),
        empty: new Uint8Array(0),
      }[shape];
      writeFileSync(join(dir, PREPARED_SEGMENT_NAME), contents);
      await using log = await SegmentLog.open(dir, { durability: EXPLICIT });
      expect(existsSync(join(dir, PREPARED_SEGMENT_NAME)), shape).toBe(false);
      expect(log.nextOffset, shape).toBe(8);
      expect(log.recovery.actions.map((action) => action.kind), shape).toContain('removed-file');
    }
  });

  it('sets aside one whose header a crash tore with bytes but no whole record behind it', async () => {
    const dir = tempDir();
    await twoSegments(dir);
    const torn = Buffer.concat([Buffer.from(preparedFrame(storeIdOf(dir))), Buffer.alloc(30, 0), Buffer.from('scattered')]);
    writeFileSync(join(dir, PREPARED_SEGMENT_NAME), torn);
    await using log = await SegmentLog.open(dir, { durability: EXPLICIT });
    expect(log.nextOffset).toBe(8);
    expect(existsSync(join(dir, PREPARED_SEGMENT_NAME))).toBe(false);
    expect(readFileSync(join(dir, `${PREPARED_SEGMENT_NAME}.torn-0`))).toEqual(torn);
    expect(log.recovery.actions.map((action) => action.kind)).toEqual(['saved-tail', 'removed-file']);
  });

  it('cuts a torn tail of a segment found under the prepared name, saved beside that file, before the segment takes its own name', async () => {
    const dir = tempDir();
    await twoSegments(dir);
    rmSync(join(dir, 'clean-shutdown'));
    const whole = readFileSync(join(dir, logName(4)));
    // The last record cut in the middle: a tail a power cut can leave.
    writeFileSync(join(dir, PREPARED_SEGMENT_NAME), whole.subarray(0, whole.length - 50));
    rmSync(join(dir, logName(4)));
    await using log = await SegmentLog.open(dir, { durability: EXPLICIT });
    expect(log.nextOffset).toBe(7);
    expect(log.recovery.actions.map((action) => action.kind)).toEqual(['saved-tail', 'truncated-tail', 'completed-switch']);
    const lastRecord = whole.length - RECORD_FRAME_BYTES;
    expect(readFileSync(join(dir, `${PREPARED_SEGMENT_NAME}.torn-${lastRecord}`))).toEqual(whole.subarray(lastRecord, whole.length - 50));
    expect(existsSync(join(dir, logName(4)))).toBe(true);
  });

  it('refuses one that is not provably ours, and changes nothing', async () => {
    const dir = tempDir();
    await twoSegments(dir);
    const storeId = storeIdOf(dir);
    const otherId = storeId.map((byte) => byte ^ 0xff);
    const cases: [string, () => void][] = [
      ['the prepared frame of another log', () => writeFileSync(join(dir, PREPARED_SEGMENT_NAME), preparedFrame(otherId))],
      ['a header of another log', () => writeFileSync(join(dir, PREPARED_SEGMENT_NAME), headerFrame(8, otherId))],
      ['garbage', () => writeFileSync(join(dir, PREPARED_SEGMENT_NAME), new Uint8Array(40).fill(0x5a))],
      ['a whole record behind a header that is not whole', () => writeFileSync(join(dir, PREPARED_SEGMENT_NAME), Buffer.concat([preparedFrame(storeId), readFileSync(join(dir, logName(4))).subarray(HEADER_BYTES)]))],
      ['a directory', () => mkdirSync(join(dir, PREPARED_SEGMENT_NAME))],
      ['a header of a segment that has its own .log', () => writeFileSync(join(dir, PREPARED_SEGMENT_NAME), headerFrame(4, storeId))],
    ];
    for (const [what, plant] of cases) {
      plant();
      const before = snapshot(dir);
      expect(await codeOf(() => SegmentLog.open(dir, { durability: EXPLICIT })), what).toBe('KEEL_CORRUPT');
      expect(snapshot(dir), what).toEqual(before);
      rmSync(join(dir, PREPARED_SEGMENT_NAME), { recursive: true });
    }
  });

  it('leaves the prepared name when the segment found under it is refused (damage with valid records after it)', async () => {
    const dir = tempDir();
    await twoSegments(dir);
    rmSync(join(dir, 'clean-shutdown'));
    const path = join(dir, logName(4));
    const log = readFileSync(path);
    // A byte inside the second record's frame of the active segment: valid frames follow it.
    const at = HEADER_BYTES + RECORD_FRAME_BYTES + 60;
    log.writeUInt8(log.readUInt8(at) ^ 0x01, at);
    writeFileSync(path, log);
    renameSync(path, join(dir, PREPARED_SEGMENT_NAME));
    const before = snapshot(dir);
    expect(await codeOf(() => SegmentLog.open(dir, { durability: EXPLICIT }))).toBe('KEEL_CORRUPT');
    expect(snapshot(dir)).toEqual(before);
  });
});
