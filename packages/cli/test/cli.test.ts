import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '@keel/journal';
import { PayloadStore } from '@keel/payload-store';
import { SegmentLog } from '@keel/segment-log';
import { WalKv } from '@keel/wal-kv';
import type { BackupProgress } from '@keel/core';
import { detectStore } from '../src/detect.js';
import { openStore } from '../src/stores.js';

// The built command, run as a user runs it: a real process, real files.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const CHILD = fileURLToPath(new URL('../dist/torture/child.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-cli-'));
  dirs.push(dir);
  return dir;
}

function keel(...args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function json(...args: string[]): { status: number; body: Record<string, unknown>; stderr: string } {
  const result = keel(...args, '--json');
  if (result.stdout.trim() === '') throw new Error(`keel ${args.join(' ')} --json printed nothing (exit ${result.status}): ${result.stderr}`);
  return { status: result.status, body: JSON.parse(result.stdout) as Record<string, unknown>, stderr: result.stderr };
}

/** Every file under `path` with its SHA-256, so a command can be shown to have changed nothing. */
function treeHash(path: string): string {
  const hash = createHash('sha256');
  const walk = (at: string): void => {
    if (statSync(at).isFile()) {
      hash.update(at).update(readFileSync(at));
      return;
    }
    for (const name of readdirSync(at).sort()) walk(join(at, name));
  };
  walk(path);
  return hash.digest('hex');
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** A small store of each backend: 50 records "value <i>". */
const MAKERS = {
  async journal(dir: string): Promise<string> {
    const path = join(dir, 'app.wal');
    const journal = await Journal.open(path);
    for (let i = 0; i < 50; i++) journal.append(text(`value ${i}`));
    await journal.close();
    return path;
  },
  async 'segment-log'(dir: string): Promise<string> {
    const path = join(dir, 'log');
    const log = await SegmentLog.open(path, { segmentBytes: 16 * 1024 });
    for (let i = 0; i < 50; i++) log.append({ value: text(`value ${i}`) });
    await log.close();
    return path;
  },
  async 'payload-store'(dir: string): Promise<string> {
    const path = join(dir, 'payloads');
    const store = await PayloadStore.open(path);
    for (let i = 0; i < 50; i++) store.append(text(`value ${i}`));
    await store.close();
    return path;
  },
  async 'wal-kv'(dir: string): Promise<string> {
    const path = join(dir, 'kv');
    const kv = await WalKv.open<Uint8Array>(path);
    for (let i = 0; i < 50; i++) kv.put(`key ${String(i).padStart(2, '0')}`, text(`value ${i}`));
    await kv.close();
    return path;
  },
} as const;

/** The file a torn or flipped write would hit: the journal itself, or a store's newest data file. */
function dataFile(path: string): string {
  if (statSync(path).isFile()) return path;
  const names = readdirSync(path).filter((name) => /\.(log|seg)$/.test(name) || /^wal-\d+\.log$/.test(name));
  return join(path, names.sort().at(-1)!);
}

describe('keel', () => {
  for (const [backend, make] of Object.entries(MAKERS)) {
    describe(backend, () => {
      it('inspect, verify, dump and recover a clean store, and change nothing', async () => {
        const path = await make(tempDir());
        const before = treeHash(path);
        const inspected = json('inspect', path);
        expect(inspected.status).toBe(0);
        expect(inspected.body).toMatchObject({ backend });
        // Nothing to repair; a journal closed cleanly says its open trusted the clean-shutdown record instead of checking every frame.
        const actions = (inspected.body.recovery as { actions: string[] }).actions;
        expect(actions).toEqual(backend === 'journal' ? [expect.stringMatching(/^trusted-clean-shutdown /)] : []);
        const verified = json('verify', path);
        expect(verified.status).toBe(0);
        expect(verified.body).toMatchObject({ backend, clean: true, records: 50 });
        const lines = keel('dump', path).stdout.trim().split('\n').map((line) => JSON.parse(line) as { value: { encoding: string; data: string } });
        expect(lines.map((line) => line.value.data).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `value ${i}`).sort());
        expect(lines.every((line) => line.value.encoding === 'utf8')).toBe(true);
        expect(json('dump', path, '--limit', '3').body.records).toHaveLength(3);
        expect(json('recover', path).body).toMatchObject({ outcome: 'nothing to do', applied: false });
        expect(treeHash(path)).toBe(before);
      });

      it('backup --json prints one JSON document and no bar, copies in the kernel through the read-only open, and changes nothing', async () => {
        const path = await make(tempDir());
        const before = treeHash(path);
        const target = join(tempDir(), 'copy');
        const made = json('backup', path, target);
        expect(made.status).toBe(0);
        expect(made.stderr).toBe('');
        const copiedBy = made.body.copiedBy as { reflink: number; copyFileRange: number; readWrite: number };
        expect(copiedBy.readWrite).toBe(0);
        expect(copiedBy.reflink + copiedBy.copyFileRange).toBe(made.body.bytes);
        expect(treeHash(path)).toBe(before);
        expect(json('verify', target).body).toMatchObject({ clean: true, records: 50 });
      });

      it('a backup reports its progress from 0 up to every byte it copies', async () => {
        const path = await make(tempDir());
        const store = await openStore(detectStore(path).backend, path, { readOnly: true });
        const seen: BackupProgress[] = [];
        try {
          const report = await store.backup(join(tempDir(), 'copy'), { onProgress: (progress) => seen.push(progress) });
          expect(seen[0]).toEqual({ copiedBytes: 0, totalBytes: report.bytes });
          expect(seen.at(-1)).toEqual({ copiedBytes: report.bytes, totalBytes: report.bytes });
          expect(seen.every((progress, index) => index === 0 || progress.copiedBytes >= (seen[index - 1] as BackupProgress).copiedBytes)).toBe(true);
        } finally {
          await store.close();
        }
      });

      it('a torn tail: verify says damaged (exit 1), recover shows the cut and changes no byte, recover --apply makes it clean', async () => {
        const path = await make(tempDir());
        appendFileSync(dataFile(path), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]));
        const before = treeHash(path);
        const verified = json('verify', path);
        expect(verified.status).toBe(1);
        expect(verified.body.clean).toBe(false);
        const shown = json('recover', path);
        expect(shown.status).toBe(0);
        expect(shown.body.outcome).toBe('would repair');
        expect(treeHash(path)).toBe(before);
        expect(json('recover', path, '--apply').body).toMatchObject({ outcome: 'repaired', applied: true });
        expect(json('verify', path)).toMatchObject({ status: 0, body: { clean: true, records: 50 } });
      });

      it('a zeroed tail and a truncated last record: verify exits 1, recover changes no byte until --apply', async () => {
        for (const damage of ['zeroed', 'truncated'] as const) {
          const path = await make(tempDir());
          const file = dataFile(path);
          if (damage === 'zeroed') appendFileSync(file, Buffer.alloc(4096));
          else writeFileSync(file, readFileSync(file).subarray(0, statSync(file).size - 3));
          const before = treeHash(path);
          expect(json('verify', path).status).toBe(1);
          expect(json('recover', path).body.outcome).toBe('would repair');
          expect(treeHash(path)).toBe(before);
          expect(json('recover', path, '--apply').body.outcome).toBe('repaired');
          expect(json('verify', path).status).toBe(0);
        }
      });

      it('a flipped byte in the middle: verify exits 1 and says where; recover refuses and changes nothing', async () => {
        const path = await make(tempDir());
        const file = dataFile(path);
        const bytes = readFileSync(file);
        bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
        writeFileSync(file, bytes);
        const before = treeHash(path);
        const verified = json('verify', path);
        expect(verified.status).toBe(1);
        expect(verified.body.clean).toBe(false);
        expect(treeHash(path)).toBe(before);
        const shown = keel('recover', path, '--json');
        expect([0, 1]).toContain(shown.status);
        expect(treeHash(path)).toBe(before);
      });
    });
  }

  it('a deleted index file is rebuilt by recovery: verify reports it, the data reads back whole', async () => {
    const path = await MAKERS['segment-log'](tempDir());
    const index = readdirSync(path).find((name) => name.endsWith('.index'))!;
    unlinkSync(join(path, index));
    const verified = json('verify', path);
    expect(verified.status).toBe(1);
    expect(JSON.stringify(verified.body)).toContain('rebuilt-index');
    expect(keel('dump', path).stdout.trim().split('\n')).toHaveLength(50);
  });

  it('a path that is not a keel store: exit 2, one line on stderr with the code, and nothing touched', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    const before = treeHash(dir);
    for (const command of ['inspect', 'verify', 'dump', 'recover']) {
      const result = keel(command, dir);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('KEEL_NOT_FOUND');
    }
    expect(keel('recover', join(dir, 'notes.txt'), '--apply').status).toBe(2);
    expect(treeHash(dir)).toBe(before);
  });

  it('works beside a live writer in another process, which it never blocks', async () => {
    const dir = tempDir();
    const writer = spawn(process.execPath, [CHILD, 'segment-log', dir, 'explicit', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Wait for the writer's first acknowledgements (its output, not a timer).
    await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
    try {
      const verified = json('verify', dir);
      expect(verified.status).toBe(0);
      expect(verified.body.records).toBeGreaterThan(0);
      const dumped = json('dump', dir, '--limit', '5');
      expect(dumped.body.records).toHaveLength(5);
      expect(json('inspect', dir).body).toMatchObject({ backend: 'segment-log' });
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('torture: SIGKILLs a writer, loses nothing acknowledged, and says so in JSON', () => {
    const result = json('torture', 'all', '--rounds', '1', '--seed', '42');
    expect(result.status).toBe(0);
    expect(result.body).toMatchObject({ seed: 42, lost: 0 });
    const rounds = result.body.rounds as { backend: string; acknowledged: number; lost: number }[];
    expect(rounds.map((round) => round.backend)).toEqual(['journal', 'segment-log', 'payload-store', 'wal-kv']);
    expect(rounds.every((round) => round.acknowledged > 0 && round.lost === 0)).toBe(true);
  });

  it('backup makes a verified copy beside a live writer that opens cleanly, and never writes over a target', async () => {
    const dir = tempDir();
    const writer = spawn(process.execPath, [CHILD, 'wal-kv', dir, 'explicit', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
    const target = join(tempDir(), 'copy');
    try {
      const made = json('backup', dir, target);
      expect(made.status).toBe(0);
      expect(made.body).toMatchObject({ backend: 'wal-kv', target, verified: true });
    } finally {
      writer.kill('SIGKILL');
    }
    expect(json('verify', target)).toMatchObject({ status: 0, body: { clean: true } });
    expect(keel('backup', dir, target).status).toBe(2);
  });

  it('usage errors exit 2', () => {
    expect(keel('torture', 'no-such-backend').status).toBe(2);
    expect(keel('no-such-command').status).toBe(2);
    expect(keel('dump').status).toBe(2);
  });
});
