import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, nativeIo, type Io } from '@keel/core';
import { WalKv } from '../src/index.js';
import { LOG_FORMAT_VERSION, encodeLogHeader } from '../src/format.js';
import { IDENTITY, IDENTITY_FILE_NAME } from '../src/store-identity.js';
import { bytes, expectCode, snapshotNames, temporaryDir, text } from './helpers.js';

/** Every file of the directory with its bytes: what "nothing changed" is checked against. */
function contents(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name)).toString('hex')]));
}

function storeIdOf(dir: string): Uint8Array {
  const identity = IDENTITY.decode(new Uint8Array(readFileSync(join(dir, IDENTITY_FILE_NAME))));
  if (identity.state !== 'valid') throw new Error('test store has no identity');
  return identity.storeId;
}

/** A store holding keys a..d, all durable, with a snapshot covering them. */
async function filledStore(dir: string): Promise<void> {
  const kv = await WalKv.open(dir, { durability: { mode: 'explicit' } });
  for (const key of ['a', 'b', 'c', 'd']) kv.put(key, bytes(`value of ${key}`));
  await kv.sync();
  await kv.checkpoint();
  await kv.close();
}

async function expectState(dir: string): Promise<void> {
  const kv = await WalKv.open(dir);
  try {
    expect(['a', 'b', 'c', 'd'].map((key) => text(kv.get(key)))).toEqual(['value of a', 'value of b', 'value of c', 'value of d']);
  } finally {
    await kv.close();
  }
}

/** Open refuses with KEEL_CORRUPT and every file is byte for byte as it was. */
async function expectRefusedUntouched(dir: string, options = {}): Promise<void> {
  const before = contents(dir);
  await expectCode(() => WalKv.open(dir, options), 'KEEL_CORRUPT');
  expect(contents(dir)).toEqual(before);
}

describe('a stray or foreign log generation', () => {
  it('a header-only wal-2.log of this store is not adopted: refused, wal-1.log and its snapshots kept', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    writeFileSync(join(dir, 'wal-2.log'), encodeLogHeader({ version: LOG_FORMAT_VERSION, generation: 2, baseSeq: 4, storeId: storeIdOf(dir) }));
    await expectRefusedUntouched(dir);
    rmSync(join(dir, 'wal-2.log'));
    await expectState(dir);
  });

  it('a log copied from another store is foreign, whatever its generation', async () => {
    const other = temporaryDir();
    {
      const kv = await WalKv.open(other);
      kv.put('a', bytes('another store'));
      await kv.close();
    }
    const dir = temporaryDir();
    await filledStore(dir);
    writeFileSync(join(dir, 'wal-2.log'), readFileSync(join(other, 'wal-1.log')));
    await expectRefusedUntouched(dir);
    rmSync(join(dir, 'wal-2.log'));
    const original = readFileSync(join(dir, 'wal-1.log'));
    writeFileSync(join(dir, 'wal-1.log'), readFileSync(join(other, 'wal-1.log')));
    await expectRefusedUntouched(dir);
    writeFileSync(join(dir, 'wal-1.log'), original);
    await expectState(dir);
  });

  it('a snapshot copied from another store is refused, not used or removed', async () => {
    const other = temporaryDir();
    await filledStore(other);
    const dir = temporaryDir();
    await filledStore(dir);
    const [name] = snapshotNames(other);
    for (const existing of snapshotNames(dir)) rmSync(join(dir, existing));
    writeFileSync(join(dir, name!), readFileSync(join(other, name!)));
    await expectRefusedUntouched(dir);
  });

  it('a real compaction, interrupted after its rename, is still adopted', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    const kv = await WalKv.open(dir);
    kv.delete('d');
    await kv.sync();
    const oldGeneration = readFileSync(join(dir, 'wal-1.log'));
    await kv.compact();
    await kv.close();
    // The state after the rename, before the old generation's removal was durable.
    writeFileSync(join(dir, 'wal-1.log'), oldGeneration);
    const reopened = await WalKv.open(dir);
    expect(reopened.recovery.actions).toContainEqual(expect.objectContaining({ kind: 'removed-file', path: join(dir, 'wal-1.log') }));
    expect(reopened.has('d')).toBe(false);
    expect(text(reopened.get('a'))).toBe('value of a');
    await reopened.close();
  });
});

describe('a live writer beside an open', () => {
  it('passes over a temporary that is gone by the time it is checked (the writer renamed or removed it)', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    // The listing names a `.tmp` that no longer exists, as it does when a writer's rename lands between the two.
    const racing: Io = Object.assign(Object.create(nativeIo) as Io, {
      list: (path: string) => [...nativeIo.list(path), 'snapshot-99.snap.tmp', 'wal-2.log.tmp'],
    });
    for (const readOnly of [true, false]) {
      const kv = await WalKv.open(dir, { io: racing, readOnly });
      expect(text(kv.get('d'))).toBe('value of d');
      await kv.close();
    }
  });

  it('passes over a temporary that is still there when checked but gone when read (a read-only open reads through its overlay later)', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    const ghosts = ['snapshot-99.snap.tmp', 'wal-2.log.tmp'];
    const isGhost = (path: string): boolean => ghosts.some((name) => path.endsWith(`/${name}`));
    const racing: Io = Object.assign(Object.create(nativeIo) as Io, {
      list: (path: string) => [...nativeIo.list(path), ...ghosts],
      stat: (path: string) => (isGhost(path) ? { size: 64, isFile: true, isDirectory: false } : nativeIo.stat(path)),
    });
    for (const readOnly of [true, false]) {
      const kv = await WalKv.open(dir, { io: racing, readOnly });
      expect(text(kv.get('d'))).toBe('value of d');
      await kv.close();
    }
  });
});

describe('a refused open changes nothing', () => {
  it('keeps a stray .tmp when it refuses for another reason (a lost log with its snapshot left behind)', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    rmSync(join(dir, 'wal-1.log'));
    writeFileSync(join(dir, 'wal-1.log.tmp'), new Uint8Array(0));
    writeFileSync(join(dir, 'snapshot-99.snap.tmp'), new Uint8Array(0));
    await expectRefusedUntouched(dir);
  });

  it('keeps the .tmp leftovers when strict recovery refuses a torn tail', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    writeFileSync(join(dir, 'wal-1.log'), Buffer.concat([readFileSync(join(dir, 'wal-1.log')), Buffer.from([0x57, 0x4b, 0x56])]));
    writeFileSync(join(dir, 'snapshot-99.snap.tmp'), new Uint8Array(0));
    await expectRefusedUntouched(dir, { recovery: 'strict' });
  });

  it('a file with a temporary name of ours that we did not write is refused, not removed', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    writeFileSync(join(dir, 'wal-7.log.tmp'), 'somebody else\'s notes');
    await expectRefusedUntouched(dir);
  });
});

/** Swaps the value length and position of the first two entries of a snapshot, with every CRC made valid again. */
function swapFirstTwoEntries(path: string): void {
  const file = new Uint8Array(readFileSync(path));
  const view = new DataView(file.buffer);
  let offset = 0;
  for (;;) {
    const length = view.getUint32(offset + 4, true);
    const payload = offset + 8;
    if (file[payload] === 2 && view.getUint32(payload + 1, true) >= 2) {
      const first = payload + 5;
      const second = first + 22;
      // value length u32 and position u64 sit at +2..+14 of each 22-byte entry
      const saved = file.slice(first + 2, first + 14);
      file.copyWithin(first + 2, second + 2, second + 14);
      file.set(saved, second + 2);
      view.setUint32(payload + length, crc32c(file.subarray(offset, payload + length)), true);
      writeFileSync(path, file);
      return;
    }
    offset = payload + length + 4;
  }
}

describe('snapshot entries are bound to their keys', () => {
  it('an entry pointing a key at another key\'s value is detected (KEEL_CORRUPT), never returned', async () => {
    const dir = temporaryDir();
    await filledStore(dir);
    const [name] = snapshotNames(dir);
    swapFirstTwoEntries(join(dir, name!));
    const kv = await WalKv.open(dir);
    try {
      expect(kv.recovery.actions.map((action) => action.kind)).toContain('loaded-snapshot');
      const swapped = ['a', 'b', 'c', 'd'].filter((key) => {
        try {
          expect(text(kv.get(key))).toBe(`value of ${key}`);
          return false;
        } catch (error) {
          expect((error as { code?: string }).code).toBe('KEEL_CORRUPT');
          return true;
        }
      });
      expect(swapped).toHaveLength(2);
    } finally {
      await kv.close();
    }
  });
});
