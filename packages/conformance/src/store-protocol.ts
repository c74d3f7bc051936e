/**
 * What every store does the same way, whatever its format: the lock, use after close, and
 * close of a poisoned store. Decided once in core (see core's README, "One store
 * protocol") and asserted here for every backend, not by four sets of tests.
 */
import { InterceptedIo, isKeelError, isRepair, type DurabilityPolicy, type Io, type IoMutation, type KeelErrorCode } from '@keel/core';

import type { AdapterOpenOptions, BackendAdapter, BackendSupports } from './adapter.js';
import { FaultFs } from './fault-fs.js';
import { makePayload } from './model.js';
import { ConformanceViolation } from './violation.js';

const DIR = '/store';
const OPTIONS: AdapterOpenOptions = { durability: { mode: 'explicit' }, recovery: 'truncate-tail' };

export interface StoreProtocolCheck {
  name: string;
  /** Run only for a backend that declares this in `supports`. */
  requires?: keyof BackendSupports;
  run(adapter: BackendAdapter): Promise<void>;
}

async function codeOf(action: () => unknown): Promise<KeelErrorCode | 'resolved' | 'not a KeelError'> {
  try {
    await action();
    return 'resolved';
  } catch (error) {
    return isKeelError(error) ? error.code : 'not a KeelError';
  }
}

async function expectCode(adapter: BackendAdapter, what: string, action: () => unknown, code: KeelErrorCode | 'resolved'): Promise<void> {
  const got = await codeOf(action);
  if (got !== code) throw new ConformanceViolation(`${adapter.name}: ${what}: expected ${code}, got ${got}`);
}

/** Counts the mutating operations that go through it: a read-only store must make none. */
class MutationCounter extends InterceptedIo {
  readonly seen: string[] = [];

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.seen.push(`${operation} ${path}`);
    return run();
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.seen.push(`${operation} ${path}`);
    return run();
  }
}

/** What the adapter reads, as comparable strings (position and bytes for logs, key and bytes for stores). */
async function contents(adapter: BackendAdapter, store: unknown): Promise<string[]> {
  if (adapter.kind === 'log') return (await adapter.read(store)).map((record) => `${record.position}:${Buffer.from(record.payload).toString('hex')}`);
  return [...(await adapter.read(store)).entries()].map(([key, value]) => `${key}:${Buffer.from(value).toString('hex')}`).sort();
}

function sameFiles(before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): boolean {
  if (before.size !== after.size) return false;
  for (const [path, bytes] of before) {
    const other = after.get(path);
    if (other === undefined || Buffer.compare(Buffer.from(bytes), Buffer.from(other)) !== 0) return false;
  }
  return true;
}

async function openReadOnly(adapter: BackendAdapter, io: Io): Promise<{ store: unknown; counter: MutationCounter }> {
  const counter = new MutationCounter(io);
  const store = await adapter.open(counter, DIR, { ...OPTIONS, readOnly: true });
  return { store, counter };
}

function write(adapter: BackendAdapter, store: unknown, id: number): unknown {
  const payload = makePayload(id, 32);
  return adapter.kind === 'log' ? adapter.append(store, payload) : adapter.put(store, `key-${id}`, payload);
}

export const STORE_PROTOCOL_CHECKS: readonly StoreProtocolCheck[] = [
  {
    name: "the durability option takes a mode name ('none', 'every-write', 'explicit') as well as an object",
    async run(adapter) {
      const io = new FaultFs();
      for (const name of ['explicit', 'every-write', 'none'] as const) {
        // Adapters hand the option to the backend untouched; the name form is what is checked.
        const durability = name as unknown as DurabilityPolicy;
        const store = await adapter.open(io, DIR, { ...OPTIONS, durability });
        await write(adapter, store, 1);
        await adapter.sync(store);
        await adapter.close(store);
      }
    },
  },
  {
    name: 'a second open of an open store is refused with KEEL_LOCKED, and allowed after close',
    async run(adapter) {
      const io = new FaultFs();
      const store = await adapter.open(io, DIR, OPTIONS);
      await expectCode(adapter, 'second open while open', () => adapter.open(io, DIR, OPTIONS), 'KEEL_LOCKED');
      await adapter.close(store);
      await adapter.close(await adapter.open(io, DIR, OPTIONS));
    },
  },
  {
    name: 'use after close is refused with KEEL_CLOSED, and close is idempotent',
    async run(adapter) {
      const io = new FaultFs();
      const store = await adapter.open(io, DIR, OPTIONS);
      await adapter.close(store);
      await expectCode(adapter, 'write after close', () => write(adapter, store, 1), 'KEEL_CLOSED');
      await expectCode(adapter, 'sync after close', () => adapter.sync(store), 'KEEL_CLOSED');
      await expectCode(adapter, 'second close', () => adapter.close(store), 'resolved');
    },
  },
  {
    name: 'after a failed sync, writes are refused with KEEL_POISONED, close rejects with KEEL_POISONED, and a reopen works',
    async run(adapter) {
      const io = new FaultFs();
      const store = await adapter.open(io, DIR, OPTIONS);
      await write(adapter, store, 1);
      io.inject({ operation: 'sync', nth: 1, errno: 'EIO' });
      await expectCode(adapter, 'sync with a failing fdatasync', () => adapter.sync(store), 'KEEL_IO');
      io.inject(null);
      await expectCode(adapter, 'write after a failed sync', () => write(adapter, store, 2), 'KEEL_POISONED');
      await expectCode(adapter, 'close of a poisoned store', () => adapter.close(store), 'KEEL_POISONED');
      await expectCode(adapter, 'close of a poisoned store, again', () => adapter.close(store), 'KEEL_POISONED');
      await adapter.close(await adapter.open(io, DIR, OPTIONS));
    },
  },
  {
    name: 'a read-only open beside a live writer takes no lock, sees what was written, refuses writes with KEEL_READ_ONLY, and changes nothing',
    requires: 'readOnly',
    async run(adapter) {
      const io = new FaultFs();
      const writer = await adapter.open(io, DIR, OPTIONS);
      for (let id = 1; id <= 8; id++) await write(adapter, writer, id);
      await adapter.sync(writer);
      const written = await contents(adapter, writer);
      const { store: reader, counter } = await openReadOnly(adapter, io);
      const seen = await contents(adapter, reader);
      if (seen.join() !== written.join()) throw new ConformanceViolation(`${adapter.name}: a read-only open beside the writer read ${seen.length} entries, not the ${written.length} written and synced`);
      await expectCode(adapter, 'write to a read-only store', () => write(adapter, reader, 100), 'KEEL_READ_ONLY');
      await expectCode(adapter, 'sync of a read-only store', () => adapter.sync(reader), 'KEEL_READ_ONLY');
      await write(adapter, writer, 9);
      await adapter.sync(writer);
      await adapter.close(reader);
      if (counter.seen.length > 0) throw new ConformanceViolation(`${adapter.name}: a read-only open changed the disk: ${counter.seen.slice(0, 5).join(', ')}`);
      await adapter.close(writer);
    },
  },
  {
    name: 'a read-only open of a crashed store reports the repair a writer would make, makes none, and reads what the writer then reads',
    requires: 'readOnly',
    async run(adapter) {
      const live = new FaultFs();
      const writer = await adapter.open(live, DIR, OPTIONS);
      for (let id = 1; id <= 6; id++) await write(adapter, writer, id);
      await adapter.sync(writer);
      for (let id = 7; id <= 12; id++) await write(adapter, writer, id);
      // A sync whose fdatasync never completes: the writes reach the OS, then the crash
      // turns them to garbage, a torn tail for recovery to save and cut.
      live.holdSyncs();
      void Promise.resolve(adapter.sync(writer)).catch(() => undefined);
      await new Promise<void>((resolve) => setImmediate(resolve));
      const io = crashWithGarbageTail(live);
      const before = io.files();
      const { store: reader, counter } = await openReadOnly(adapter, io);
      const seen = await contents(adapter, reader);
      const wouldDo = adapter.recovery(reader).actions.map((action) => action.kind);
      await adapter.close(reader);
      if (counter.seen.length > 0 || !sameFiles(before, io.files())) throw new ConformanceViolation(`${adapter.name}: a read-only open of a crashed store changed the disk (${counter.seen.slice(0, 5).join(', ')})`);
      const repaired = await adapter.open(io, DIR, OPTIONS);
      const did = adapter.recovery(repaired).actions.map((action) => action.kind);
      const after = await contents(adapter, repaired);
      await adapter.close(repaired);
      if (did.length === 0) throw new ConformanceViolation(`${adapter.name}: the crashed store needed no repair, so this check proved nothing`);
      if (wouldDo.join() !== did.join()) throw new ConformanceViolation(`${adapter.name}: read-only open reported [${wouldDo.join(', ')}], the writer's open did [${did.join(', ')}]`);
      if (seen.join() !== after.join()) throw new ConformanceViolation(`${adapter.name}: read-only open read ${seen.length} entries, the repaired store ${after.length}`);
    },
  },
  {
    name: 'a read-only open where there is no store is refused with KEEL_NOT_FOUND and creates nothing',
    requires: 'readOnly',
    async run(adapter) {
      const io = new FaultFs();
      await expectCode(adapter, 'read-only open of a missing store', () => adapter.open(io, DIR, { ...OPTIONS, readOnly: true }), 'KEEL_NOT_FOUND');
      if (io.files().size > 0 || io.stat(DIR) !== null) throw new ConformanceViolation(`${adapter.name}: a refused read-only open created ${[...io.files().keys()].join(', ') || DIR}`);
    },
  },
  {
    name: 'a backup made while writes go on opens cleanly with everything durable when it began, and never writes over a target',
    requires: 'backup',
    async run(adapter) {
      const io = new FaultFs();
      const { store, durable } = await storeWithDurable(adapter, io, 10);
      const backup = (adapter.backup as NonNullable<typeof adapter.backup>)(store, BACKUP);
      for (let id = 11; id <= 15; id++) await write(adapter, store, id);
      assertCopiedInKernel(adapter, await backup);
      await adapter.close(store);
      await assertBackupHolds(adapter, io, durable, 'a backup');
      const again = await adapter.open(io, DIR, OPTIONS);
      await expectCode(adapter, 'a backup over an existing target', () => (adapter.backup as NonNullable<typeof adapter.backup>)(again, BACKUP), 'KEEL_BAD_ARGUMENT');
      await adapter.close(again);
    },
  },
  {
    name: 'a crash at every step of a backup leaves the source whole and the target absent or whole',
    requires: 'backup',
    async run(adapter) {
      const io = new FaultFs();
      const { store, durable } = await storeWithDurable(adapter, io, 10);
      const start = io.mutations;
      await (adapter.backup as NonNullable<typeof adapter.backup>)(store, BACKUP);
      const steps = io.mutations - start;
      await adapter.close(store);
      for (let step = 1; step <= steps; step++) {
        // The same store, crashed just before the step-th disk operation of its backup.
        const run = new FaultFs();
        const { store: writer } = await storeWithDurable(adapter, run, 10);
        run.crashAtMutation(step);
        await Promise.resolve((adapter.backup as NonNullable<typeof adapter.backup>)(writer, BACKUP)).catch(() => undefined);
        for (const data of ['keep-all', 'lose-all'] as const) {
          const crashed = run.crash({ seed: step, data: { mode: data }, entries: 'subset' }).fs;
          const source = await adapter.open(crashed, DIR, OPTIONS);
          const kept = await contents(adapter, source);
          await adapter.close(source);
          if (kept.join() !== durable.join()) throw new ConformanceViolation(`${adapter.name}: a crash at step ${step} of a backup changed the source (${kept.length} entries, ${durable.length} durable)`);
          await assertBackupHolds(adapter, crashed, durable, `the target after a crash at step ${step} of ${steps}`, true);
        }
      }
    },
  },
  {
    name: 'a reader beside a writer sees a prefix of what the writer wrote, at every disk operation of the writes',
    requires: 'readOnly',
    async run(adapter) {
      const io = new FaultFs();
      const steps = new StepRecorder(io);
      const writer = await adapter.open(steps, DIR, OPTIONS);
      const payloads: string[] = [];
      for (let id = 1; id <= 9; id++) {
        await write(adapter, writer, id);
        payloads.push(Buffer.from(makePayload(id, 32)).toString('hex'));
        if (id % 3 === 0) await adapter.sync(writer);
      }
      await adapter.close(writer);
      // What a reader may see: the writes in order, each one whole or not at all.
      const prefixes = payloads.map((_, count) => (adapter.kind === 'log' ? payloads.slice(0, count) : payloads.slice(0, count).map((hex, i) => `key-${i + 1}:${hex}`).sort()).join());
      prefixes.push((adapter.kind === 'log' ? payloads : payloads.map((hex, i) => `key-${i + 1}:${hex}`).sort()).join());
      for (const [step, state] of steps.states.entries()) {
        let reader: unknown;
        try {
          reader = await adapter.open(state, DIR, { ...OPTIONS, readOnly: true });
        } catch (error) {
          // Before the writer's first file exists there is no store to read.
          if (isKeelError(error, 'KEEL_NOT_FOUND')) continue;
          throw new ConformanceViolation(`${adapter.name}: a reader after disk operation ${step + 1} of the writer could not open: ${error instanceof Error ? error.message : String(error)}`);
        }
        const seen = (await contents(adapter, reader)).map((entry) => (adapter.kind === 'log' ? entry.slice(entry.indexOf(':') + 1) : entry));
        await adapter.close(reader);
        if (!prefixes.includes(seen.join())) throw new ConformanceViolation(`${adapter.name}: a reader after disk operation ${step + 1} of the writer saw ${seen.length} entries that are not a prefix of the writes`);
      }
    },
  },
];

/** Keeps a copy of the disk after every mutating operation the writer makes through it. */
class StepRecorder extends InterceptedIo {
  readonly states: FaultFs[] = [];
  readonly #disk: FaultFs;

  constructor(disk: FaultFs) {
    super(disk);
    this.#disk = disk;
  }

  protected override aroundSync<T>(_operation: IoMutation, _path: string, run: () => T): T {
    const result = run();
    this.states.push(this.#disk.clone());
    return result;
  }

  protected override async aroundAsync<T>(_operation: IoMutation, _path: string, run: () => Promise<T>): Promise<T> {
    const result = await run();
    this.states.push(this.#disk.clone());
    return result;
  }
}

const BACKUP = '/backups/copy';

/** A crash that turns the unsynced bytes to garbage: the first seed whose fill changes them. */
function crashWithGarbageTail(live: FaultFs): FaultFs {
  for (let seed = 1; seed <= 64; seed++) {
    const crashed = live.crash({ seed, data: { mode: 'fill', fill: 'garbage' }, entries: 'keep-all' });
    if (crashed.effects.dataChanged) return crashed.fs;
  }
  throw new ConformanceViolation('no garbage fill changed the unsynced bytes: the check has nothing to check');
}

/** A store at DIR with `count` entries written and synced, and what it holds (all durable). */
async function storeWithDurable(adapter: BackendAdapter, io: FaultFs, count: number): Promise<{ store: unknown; durable: string[] }> {
  const store = await adapter.open(io, DIR, OPTIONS);
  for (let id = 1; id <= count; id++) await write(adapter, store, id);
  await adapter.sync(store);
  return { store, durable: await contents(adapter, store) };
}

/**
 * FaultFs copies a range between its files as the kernel would (copy_file_range): a
 * backup that read and wrote its bytes instead never reached the Io's copy, and the crash
 * checks above would not be exercising it.
 */
function assertCopiedInKernel(adapter: BackendAdapter, report: unknown): void {
  const copiedBy = (report as { copiedBy?: { readWrite?: unknown } } | undefined)?.copiedBy;
  if (copiedBy === undefined) throw new ConformanceViolation(`${adapter.name}: backup() resolved without a report of how it copied (copiedBy)`);
  if (copiedBy.readWrite !== 0) throw new ConformanceViolation(`${adapter.name}: a backup through FaultFs copied ${String(copiedBy.readWrite)} bytes through memory, not with the Io's copyRangeFrom`);
}

/** The backup at BACKUP opens read-only with nothing to repair and holds at least `durable` (or, when allowed, is not there at all). */
async function assertBackupHolds(adapter: BackendAdapter, io: FaultFs, durable: string[], what: string, mayBeAbsent = false): Promise<void> {
  let copy: unknown;
  try {
    copy = await adapter.open(io, BACKUP, { ...OPTIONS, readOnly: true });
  } catch (error) {
    if (mayBeAbsent && isKeelError(error, 'KEEL_NOT_FOUND')) return;
    throw new ConformanceViolation(`${adapter.name}: ${what} does not open: ${error instanceof Error ? error.message : String(error)}`);
  }
  const actions = adapter.recovery(copy).actions.filter(isRepair).map((action) => action.kind);
  const held = await contents(adapter, copy);
  await adapter.close(copy);
  if (actions.length > 0) throw new ConformanceViolation(`${adapter.name}: ${what} does not open cleanly: recovery would ${actions.join(', ')}`);
  const missing = durable.filter((entry) => !held.includes(entry));
  if (missing.length > 0) throw new ConformanceViolation(`${adapter.name}: ${what} lacks ${missing.length} of the ${durable.length} entries durable when it began`);
}