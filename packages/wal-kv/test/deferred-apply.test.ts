import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { FaultyIo } from './faulty-io.js';
import { expectCode, temporaryDir } from './helpers.js';

/**
 * A write seals its record and leaves the index update for later (while the log's
 * fdatasync runs, or at the next use of the index): these interleave writes with reads,
 * read views, iterators and syncs awaited now, later or never, and check every read
 * against a model that applies each write at once.
 */

const KEYS = ['a', 'b', 'c', 'dd', 'é', 'key/1', 'key/2', 'key/3'];
/** Below the number of keys, so that some writes are refused for the key count. */
const KEYS_MAX = 6;

type Write =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; key: string }
  | { kind: 'putBatch'; keys: string[]; values: string[] }
  | { kind: 'putPairs'; keys: string[]; values: string[] }
  | { kind: 'deleteBatch'; keys: string[] };
type Command =
  | Write
  | { kind: 'get' | 'has' | 'seqOf'; key: string }
  | { kind: 'entries' | 'size' | 'stats' | 'openView' | 'checkView' | 'closeView' | 'sync' | 'syncLater' | 'settle' | 'syncSync' | 'checkpoint' | 'turn' };

const key = fc.constantFrom(...KEYS);
const value = fc.string({ maxLength: 12 });
const columns = fc.array(fc.tuple(key, value), { maxLength: 6 }).map((pairs) => ({ keys: pairs.map(([k]) => k), values: pairs.map(([, v]) => v) }));
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 3, arbitrary: columns.map((batch) => ({ kind: 'putBatch' as const, ...batch })) },
  { weight: 1, arbitrary: columns.map((batch) => ({ kind: 'putPairs' as const, ...batch })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteBatch' as const), keys: fc.array(key, { maxLength: 4 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('get' as const, 'has' as const, 'seqOf' as const), key }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('entries' as const, 'size' as const, 'stats' as const, 'openView' as const, 'checkView' as const, 'closeView' as const, 'sync' as const, 'syncLater' as const, 'settle' as const, 'syncSync' as const, 'checkpoint' as const, 'turn' as const) }) },
);

/** The store as a map of key to [value, seq], with the write applied to it at once. */
class Model {
  readonly entries = new Map<string, [string, number]>();
  lastSeq = 0;

  /** Applies `write` and returns its last seq, or null when it would leave more than KEYS_MAX keys (then nothing changes). */
  apply(write: Write): number | null {
    const operations: Array<[string, string | null]> =
      write.kind === 'put' ? [[write.key, write.value]] : write.kind === 'delete' ? [[write.key, null]] : write.kind === 'deleteBatch' ? write.keys.map((k) => [k, null]) : write.keys.map((k, i) => [k, write.values[i]!]);
    const after = new Map(this.entries);
    let seq = this.lastSeq;
    for (const [k, v] of operations) {
      seq++;
      if (v === null) after.delete(k);
      else after.set(k, [v, seq]);
    }
    if (after.size > KEYS_MAX && after.size > this.entries.size) return null;
    this.entries.clear();
    for (const [k, entry] of after) this.entries.set(k, entry);
    this.lastSeq = seq;
    return seq;
  }

  sorted(): Array<[string, string]> {
    return [...this.entries].map(([k, [v]]): [string, string] => [k, v]).sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  }
}

function write(kv: WalKv<string>, command: Write): number {
  switch (command.kind) {
    case 'put':
      return kv.put(command.key, command.value);
    case 'delete':
      return kv.delete(command.key);
    case 'putBatch':
      return kv.putBatch(command.keys, command.values);
    case 'putPairs':
      return kv.putBatch(command.keys.map((k, i): [string, string] => [k, command.values[i]!]));
    case 'deleteBatch':
      return kv.deleteBatch(command.keys);
  }
}

async function run(commands: Command[]): Promise<void> {
  const dir = temporaryDir();
  const kv = await WalKv.open(dir, { valueEncoding: 'utf8', durability: { mode: 'explicit' }, keysMax: KEYS_MAX });
  const model = new Model();
  const views: Array<{ view: ReturnType<WalKv<string>['snapshot']>; expected: Array<[string, string]> }> = [];
  const syncs: Array<Promise<number>> = [];
  try {
    for (const step of commands) {
      switch (step.kind) {
        case 'put':
        case 'delete':
        case 'putBatch':
        case 'putPairs':
        case 'deleteBatch': {
          const empty = step.kind !== 'put' && step.kind !== 'delete' && step.keys.length === 0;
          const expected = model.apply(step);
          if (expected === null) await expectCode(() => write(kv, step), 'KEEL_TOO_LARGE');
          else expect(write(kv, step)).toBe(empty ? model.lastSeq : expected);
          break;
        }
        case 'get':
          expect(kv.get(step.key)).toBe(model.entries.get(step.key)?.[0]);
          break;
        case 'has':
          expect(kv.has(step.key)).toBe(model.entries.has(step.key));
          break;
        case 'seqOf':
          expect(kv.seqOf(step.key)).toBe(model.entries.get(step.key)?.[1]);
          break;
        case 'entries':
          expect([...kv.entries()]).toEqual(model.sorted());
          break;
        case 'size':
          expect(kv.size).toBe(model.entries.size);
          break;
        case 'stats':
          expect([kv.stats().keys, kv.stats().lastSeq]).toEqual([model.entries.size, model.lastSeq]);
          break;
        case 'openView':
          views.push({ view: kv.snapshot(), expected: model.sorted() });
          break;
        case 'checkView':
          for (const { view, expected } of views) expect([...view.entries()]).toEqual(expected);
          break;
        case 'closeView':
          views.shift()?.view.close();
          break;
        case 'sync':
          expect(await kv.sync()).toBe(model.lastSeq);
          break;
        case 'syncLater':
          syncs.push(kv.sync());
          break;
        case 'settle':
          await Promise.all(syncs.splice(0));
          break;
        case 'syncSync':
          expect(kv.syncSync()).toBe(model.lastSeq);
          break;
        case 'checkpoint':
          await kv.checkpoint();
          break;
        case 'turn':
          // A turn of the event loop: the store hands buffered records to the OS then,
          // with no sync, and the next record is encoded where they were.
          await new Promise((resolve) => setImmediate(resolve));
          break;
      }
    }
    await Promise.all(syncs.splice(0));
    for (const { view, expected } of views.splice(0)) {
      expect([...view.entries()]).toEqual(expected);
      view.close();
    }
    expect(await kv.sync()).toBe(model.lastSeq);
  } finally {
    for (const { view } of views) view.close();
    await Promise.allSettled(syncs);
    await kv.close();
  }
  const reopened = await WalKv.open(dir, { valueEncoding: 'utf8', durability: { mode: 'explicit' }, keysMax: KEYS_MAX });
  try {
    expect([...reopened.entries()]).toEqual(model.sorted());
    for (const [k, [, seq]] of model.entries) expect(reopened.seqOf(k)).toBe(seq);
  } finally {
    await reopened.close();
  }
}

describe('writes whose index update is deferred', () => {
  it('read as if applied at once, in any interleaving with reads, read views, iterators, syncs and the key-count limit, and reopen the same', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 60 }), (commands) => run(commands)),
      { numRuns: 150 },
    );
  });
});

describe('a write whose sync fails', () => {
  it.each(['datasync', 'write'])('after a failed %s reads as it did before that sync (applied, with its seqs), the store poisoned, and a reopen finds nothing written after it', async (operation) => {
    const dir = temporaryDir();
    const io = new FaultyIo(Infinity, (name) => name === operation);
    const kv = await WalKv.open(dir, { io, valueEncoding: 'utf8', durability: { mode: 'explicit' } });
    kv.putBatch(['a', 'b'], ['1', '2']);
    await kv.sync();
    io.failAt = io.mutations + 1;
    kv.deleteBatch(['a']);
    const seq = kv.putBatch(['b', 'c'], ['22', '3']);
    await expectCode(() => kv.sync(), 'KEEL_IO');
    expect(kv.stats().poisoned).toBe(true);
    expect([kv.has('a'), kv.get('b'), kv.get('c'), kv.seqOf('c'), kv.size]).toEqual([false, '22', '3', seq, 2]);
    expect([...kv.entries()]).toEqual([['b', '22'], ['c', '3']]);
    await expectCode(() => kv.put('d', '4'), 'KEEL_POISONED');
    await expectCode(() => kv.close(), 'KEEL_POISONED');

    // What a failed sync leaves is not durable, but may have reached the file: only the
    // refused write is surely absent.
    const reopened = await WalKv.open(dir, { valueEncoding: 'utf8' });
    expect(reopened.get('b')).toBeDefined();
    expect(reopened.has('d')).toBe(false);
    await reopened.close();
  });
});
