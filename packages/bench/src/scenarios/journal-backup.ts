import { closeSync, constants, openSync, fdatasyncSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nativeIo, withoutKernelCopies, type BackupReport, type Io } from '@keel/core';
import { loadBackend, type Journal } from '../backends.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import { journalSizing, sharedJournal } from './journal-read.js';

const MEBIBYTE = 2 ** 20;

/** A backup through it reads and writes every byte through a 1 MiB buffer, as backups did before they copied inside the kernel. */
const throughMemoryIo = withoutKernelCopies(nativeIo);

/** `journal.backup()` of the shared journal into a fresh target each round, removed untimed afterwards. */
function keelBackup(name: string, path: string, directory: string, io: Io): BenchSystem {
  let journal: Journal | undefined;
  let round = 0;
  let last: BackupReport | undefined;
  /** From the start to the last progress report: the copy alone, before sync, rename and read-back. */
  let copySeconds = Number.NaN;
  return {
    name,
    async setup() {
      const { Journal } = await loadBackend('journal');
      // Read-only, as `keel backup` opens a store: beside a writer, and two systems can hold it at once.
      journal = await Journal.open(path, { readOnly: true, io });
    },
    async run() {
      const target = join(directory, `${name.replaceAll(/\W+/g, '-')}-${round++}`);
      const started = process.hrtime.bigint();
      let copied = started;
      last = await (journal as Journal).backup(target, {
        onProgress: (progress) => {
          if (progress.copiedBytes === progress.totalBytes) copied = process.hrtime.bigint();
        },
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      copySeconds = Number(copied - started) / 1e9;
      rmSync(target, { force: true });
      return seconds;
    },
    details(): Record<string, number> {
      if (last === undefined) return {};
      const { bytes, copiedBy } = last;
      return { 'copy alone MB/s': bytes / 1e6 / copySeconds, 'reflink MiB': copiedBy.reflink / MEBIBYTE, 'copy_file_range MiB': copiedBy.copyFileRange / MEBIBYTE, 'read/write MiB': copiedBy.readWrite / MEBIBYTE };
    },
    async teardown() {
      await journal?.close();
    },
  };
}

/** What a script would do: `fs.copyFile` (a reflink where the file system can, else the kernel's copy) and one fdatasync; no check of what was copied. */
function rawCopy(path: string, directory: string): BenchSystem {
  let round = 0;
  return {
    name: `${SYSTEM_RAW_FS} copyFile (FICLONE) + fdatasync`,
    async run() {
      const target = join(directory, `raw-copy-${round++}`);
      const started = process.hrtime.bigint();
      await copyFile(path, target, constants.COPYFILE_FICLONE);
      const fd = openSync(target, 'r+');
      fdatasyncSync(fd);
      closeSync(fd);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rmSync(target, { force: true });
      return seconds;
    },
  };
}

const backup: Scenario = {
  name: 'journal-backup-1gib',
  backend: 'journal',
  description: 'online backup of a 1 GiB journal, warm cache: copy (by reflink, in the kernel, or through memory), datasync, rename, then the copy opened and read back with every CRC checked',
  unit: 'MB/s',
  measure: 'throughput',
  targets: [],
  sizing: journalSizing,
  async systems(context, sizing) {
    const { path } = await sharedJournal(context, sizing.workPerRound);
    return [
      keelBackup('keel journal backup (in the kernel)', path, context.directory, nativeIo),
      keelBackup('keel journal backup (through memory)', path, context.directory, throughMemoryIo),
      rawCopy(path, context.directory),
    ];
  },
};

export const JOURNAL_BACKUP_SCENARIOS: Scenario[] = [backup];
