/**
 * Realistic bugs planted, one at a time, into a copy of the real backends and core. Each
 * is a small source patch: every `from` must occur exactly once in `file` (a patch that no
 * longer applies is reported, so the catalogue cannot rot silently). `packages` are the
 * conformance suites run against the mutant, in order, until one fails. `survives` marks
 * a mutant known to be equivalent for what the suite checks, and says why.
 */
export const MUTANTS = [
  {
    name: 'core: group commit reads its frontier after the fdatasync (fsys 0.9)',
    category: 'durability lie',
    file: 'packages/core/src/group-commit.ts',
    edits: [
      { from: 'const frontier = this.#target.writtenThrough();\n      this.#flushes++;', to: 'this.#flushes++;' },
      { from: 'if (frontier > this.#durable) this.#durable = frontier;\n      this.#settle();\n    } while', to: 'const frontier = this.#target.writtenThrough();\n      if (frontier > this.#durable) this.#durable = frontier;\n      this.#settle();\n    } while' },
    ],
    packages: ['journal', 'wal-kv'],
  },
  {
    name: 'core: a failed flush is retried and its success reported (fsyncgate)',
    category: 'durability lie',
    file: 'packages/core/src/group-commit.ts',
    edits: [{ from: '      } catch (error) {\n        this.#fail(error);\n        break;\n      }', to: '      } catch {\n        try {\n          await this.#target.flush();\n        } catch (again) {\n          this.#fail(again);\n          break;\n        }\n      }' }],
    packages: ['journal', 'segment-log'],
    // Equivalent since poisoning moved into the store's guarded Io: the failed fdatasync
    // poisons the store the moment the Io sees it, so the retried flush is refused.
    survives: "the store's guarded Io poisons the store on the failed fdatasync itself, so the retry is refused with KEEL_POISONED and no waiter is told durable",
  },
  {
    name: 'core: a torn tail is cut before it is saved',
    category: 'ordering mistake',
    file: 'packages/core/src/saved-tail.ts',
    edits: [{ from: '  const copy = io.open(temporary, { createNew: true });', to: '  file.setLengthSync(from);\n  const copy = io.open(temporary, { createNew: true });' }],
    packages: ['journal'],
  },
  {
    name: 'journal: open counts the bytes it found durable without an fdatasync',
    category: 'recovery mistake',
    file: 'packages/journal/src/recovery.ts',
    edits: [{ from: '      await file.datasync();\n      durableThrough = recovery.validBytes;', to: '      durableThrough = recovery.validBytes;' }],
    packages: ['journal'],
  },
  {
    name: "journal: open syncs the file's directory only when it creates the file",
    category: 'recovery mistake',
    file: 'packages/journal/src/recovery.ts',
    edits: [{ from: '    await io.syncDir(parentDir(path));\n    if (!existed) {', to: '    if (!existed) {\n      await io.syncDir(parentDir(path));' }],
    packages: ['journal'],
  },
  {
    name: 'journal: open salvages whatever it finds (damage followed by valid frames cut as a torn tail)',
    category: 'skipped check',
    file: 'packages/journal/src/recovery.ts',
    edits: [{ from: 'policy: options.recovery,', to: "policy: 'salvage'," }],
    packages: ['journal'],
  },
  {
    name: "segment-log: a new segment's directory entry is not synced",
    category: 'durability lie',
    file: 'packages/segment-log/src/writer.ts',
    edits: [{ from: '    if (plan.entries.length === 0) return;\n    await context.io.syncDir(context.dir);\n', to: '    if (plan.entries.length === 0) return;\n' }],
    packages: ['segment-log'],
  },
  {
    name: 'segment-log: retention unlinks segments before the new log start is durable',
    category: 'ordering mistake',
    file: 'packages/segment-log/src/retention.ts',
    edits: [
      { from: '  await writeLogStart(io, dir, newStart.baseOffset, newStart.storeId);\n  const deleted', to: '  const deleted' },
      { from: '  await io.syncDir(dir);\n  return count;', to: '  await writeLogStart(io, dir, newStart.baseOffset, newStart.storeId);\n  await io.syncDir(dir);\n  return count;' },
    ],
    packages: ['segment-log'],
  },
  {
    // Retention as it was before the log-start checkpoint: unlinks oldest first, one
    // directory sync after all of them. A crash that keeps some unlinks and loses others
    // leaves a hole; the exhaustive crash keeps every subset of unsynced directory entries.
    name: 'segment-log: retention keeps no log start and syncs the directory once after all its unlinks',
    category: 'ordering mistake',
    file: 'packages/segment-log/src/retention.ts',
    edits: [{ from: '  await writeLogStart(io, dir, newStart.baseOffset, newStart.storeId);\n', to: '' }],
    packages: ['segment-log'],
  },
  {
    name: 'segment-log: index entries written before the log bytes they point to are durable (Rivven)',
    category: 'ordering mistake',
    file: 'packages/segment-log/src/writer.ts',
    edits: [{ from: '    await segment.log.datasync();\n    segmentDurableThrough(segment, size);\n  };', to: '    segmentDurableThrough(segment, size);\n    await segment.log.datasync();\n  };' }],
    packages: ['segment-log'],
    // Equivalent for what the suite can see: open revalidates index files against the log and rebuilds them.
    survives: 'index files are caches that open checks against the log and rebuilds, so their order against the data changes no outcome',
  },
  {
    name: 'segment-log: open does not sync the directory of the segments it finds',
    category: 'recovery mistake',
    file: 'packages/segment-log/src/recovery.ts',
    edits: [{ from: '    // open found is made durable before it claims anything, and before a sealed frame below.\n    await io.syncDir(dir);\n', to: '' }],
    packages: ['segment-log'],
  },
  {
    name: 'core: a failed write or sync does not poison the store (run against payload-store)',
    category: 'skipped check',
    file: 'packages/core/src/store.ts',
    edits: [{ from: '    this.#lifecycle.poison(error);\n    this.#commit.poison(error);', to: '    void error;' }],
    packages: ['payload-store'],
  },
  {
    name: "payload-store: compaction's mapping is not durable in the directory before the output is renamed",
    category: 'ordering mistake',
    file: 'packages/payload-store/src/compaction.ts',
    edits: [{ from: '    await writeNewFile(io, mappingPath, encodeMapping(record));\n    await io.syncDir(dir);', to: '    await writeNewFile(io, mappingPath, encodeMapping(record));' }],
    packages: ['payload-store'],
  },
  {
    name: 'payload-store: compaction deletes its sources without syncing the directory first',
    category: 'ordering mistake',
    file: 'packages/payload-store/src/compaction.ts',
    edits: [{ from: '  for (const segment of record.sources) removeIfPresent(host.io, joinPath(host.dir, segmentFileName(segment)));\n  await host.io.syncDir(host.dir);\n  removeIfPresent', to: '  for (const segment of record.sources) removeIfPresent(host.io, joinPath(host.dir, segmentFileName(segment)));\n  removeIfPresent' }],
    packages: ['payload-store'],
  },
  {
    name: "wal-kv: compaction's new log is not made durable before its snapshot and rename",
    category: 'durability lie',
    file: 'packages/wal-kv/src/maintenance.ts',
    edits: [{ from: '    await compacted.file.datasync();\n    await writeSnapshotFile', to: '    await writeSnapshotFile' }],
    packages: ['wal-kv'],
  },
  {
    name: 'wal-kv: a log damaged inside bytes a snapshot proved durable is cut as a torn tail',
    category: 'skipped check',
    file: 'packages/wal-kv/src/recovery.ts',
    edits: [{ from: "  if (policy === 'salvage' || choice.durableFloor <= choice.from) return;", to: '  return;' }],
    packages: ['wal-kv'],
  },
];
