import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeelError } from '@keel/core';
import fc from 'fast-check';

/** Generated wrong values per path, option and argument in `pnpm test`: each costs a real open, a call and a close. */
export const BAD_INPUT_RUNS_PER_TARGET_DEFAULT = 12;
/** An object with one of an Io's methods, not all: the shape a hand-made fake often has. */
const PARTIAL_IO = Object.freeze({ open: () => undefined });
/** Tried first at every target, every run, so that the classic mistakes never depend on the seed. */
const CLASSIC_WRONG_VALUES: readonly unknown[] = [null, 1n, {}, [], 'x\0', Number.NaN, -1, { toString: 5n }, PARTIAL_IO];
/**
 * Items drained from an iterator a call returns, so that a lazy check runs. A subject whose
 * iterators can follow (wait for records not written yet) writes at least this many in
 * `openPopulated`: a hostile `follow: true` is a valid call, and its drain would wait.
 */
export const BAD_INPUT_DRAINED_ITEMS_MAX = 4;
/** Largest integer a hostile value holds: an option such as `preallocate` must not fill the disk. */
const HOSTILE_INTEGER_MAX = 1 << 20;
/** How deep into a valid argument a hostile value is planted. */
const PLANT_DEPTH_MAX = 3;

/** One public method of an open store, with arguments it accepts. */
export interface BadInputEntryPoint<Store> {
  readonly name: string;
  /** Valid arguments; the property replaces any one part of them, at any depth, with a hostile value. */
  readonly valid: readonly unknown[];
  call(store: Store, args: unknown[]): unknown;
}

/** A backend as the bad-input property sees it: its opens and its public methods. */
export interface BadInputSubject<Store> {
  readonly name: string;
  /** What the store's path names inside a fresh directory (a file for the journal, a directory otherwise). */
  readonly pathInDirectory: string;
  /** Valid open options; the property plants hostile values in them. */
  readonly validOptions: Readonly<Record<string, unknown>>;
  /** Each public open (e.g. the store's and a read-only reader's); returns something to close. */
  readonly opens: readonly { readonly name: string; open(path: unknown, options: unknown): Promise<{ close(): unknown }> }[];
  /**
   * Opens with valid options and writes a little, so that reads and maintenance have work:
   * at least `BAD_INPUT_DRAINED_ITEMS_MAX` records where an iterator can follow.
   */
  openPopulated(path: string): Promise<Store>;
  close(store: Store): Promise<void>;
  readonly entryPoints: readonly BadInputEntryPoint<Store>[];
}

/** Entry points for methods that take no argument: each is still given one hostile extra. */
export function methodsWithoutArguments<Store>(...names: readonly (keyof Store & string)[]): BadInputEntryPoint<Store>[] {
  return names.map((name) => ({ name, valid: [], call: (store: Store) => (store[name] as () => unknown).call(store) }));
}

/** An entry point that passes its arguments straight to the method of the same name. */
export function methodEntryPoint<Store>(name: keyof Store & string, valid: readonly unknown[]): BadInputEntryPoint<Store> {
  return { name, valid, call: (store: Store, args: unknown[]) => (store[name] as (...args: unknown[]) => unknown).apply(store, args) };
}

/** Wrong values of every JSON-ish shape, bigints anywhere, NUL bytes in strings, objects without methods. */
export function hostileValue(): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    fc.boolean(),
    fc.integer({ min: -HOSTILE_INTEGER_MAX, max: HOSTILE_INTEGER_MAX }),
    fc.double(),
    fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0.5, 2 ** 53, Number.MAX_VALUE),
    fc.string({ maxLength: 8 }),
    fc.string({ maxLength: 4 }).map((text) => `${text}\0${text}`),
    fc.bigInt(),
    fc.constantFrom(null, undefined),
  );
  return fc.oneof(
    { arbitrary: scalar, weight: 3 },
    { arbitrary: fc.anything({ maxDepth: 2, maxKeys: 3, withBigInt: true, values: [scalar] }), weight: 1 },
    { arbitrary: fc.constantFrom(...CLASSIC_WRONG_VALUES, new Uint8Array(0)), weight: 2 },
  );
}

/** A path that is not one: never a plain string, which would name a real place. */
export function hostilePath(): fc.Arbitrary<unknown> {
  return hostileValue().map((value) => (typeof value === 'string' ? `${value}\0` : value));
}

/** `valid` with one part of it, at any depth, replaced by a hostile value. */
export function planted(valid: unknown, depth = 0): fc.Arbitrary<unknown> {
  const here = hostileValue();
  if (depth >= PLANT_DEPTH_MAX || valid === null || typeof valid !== 'object' || valid instanceof Uint8Array) return here;
  const keys = Object.keys(valid);
  if (keys.length === 0) return here;
  const inside = fc.constantFrom(...keys).chain((key) =>
    planted((valid as Record<string, unknown>)[key], depth + 1).map((value) => {
      const copy: Record<string, unknown> | unknown[] = Array.isArray(valid) ? [...valid] : { ...(valid as object) };
      (copy as Record<string, unknown>)[key] = value;
      return copy;
    }),
  );
  return fc.oneof(here, inside);
}

/** Runs a call to the end: awaits a promise, drains a few items of an iterator. */
async function settle(result: unknown): Promise<void> {
  const value = await result;
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || Array.isArray(value)) return;
  if (Symbol.asyncIterator in value) {
    const iterator = (value as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    for (let i = 0; i < BAD_INPUT_DRAINED_ITEMS_MAX; i++) if ((await iterator.next()).done) return;
    await iterator.return?.();
  } else if (Symbol.iterator in value) {
    const iterator = (value as Iterable<unknown>)[Symbol.iterator]();
    for (let i = 0; i < BAD_INPUT_DRAINED_ITEMS_MAX; i++) if (iterator.next().done) return;
    iterator.return?.();
  }
}

/** Success, or a KeelError with KEEL_* code; anything else (TypeError, RangeError…) fails the property. */
async function outcome(what: string, call: () => unknown): Promise<'ok' | KeelError> {
  try {
    await settle(call());
    return 'ok';
  } catch (error) {
    if (error instanceof KeelError && error.code.startsWith('KEEL_')) return error;
    throw new Error(`${what} threw ${describe(error)}, not a KeelError`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
}

/** Every file under `dir` with its bytes (directories as names), for "nothing changed" checks. */
export function directoryImage(dir: string): Map<string, string> {
  const image = new Map<string, string>();
  const visit = (path: string, name: string): void => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isDirectory()) {
      image.set(`${name}/`, '');
      for (const child of readdirSync(path).sort()) visit(join(path, child), `${name}/${child}`);
    } else {
      image.set(name, readFileSync(path).toString('base64'));
    }
  };
  visit(dir, '');
  return image;
}

function sameImage(before: Map<string, string>, after: Map<string, string>): boolean {
  return before.size === after.size && [...before].every(([name, bytes]) => after.get(name) === bytes);
}

async function withTempDirectory(prefix: string, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `keel-bad-input-${prefix}-`));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What one property aims at: the path, one option, or one argument of one method. */
export type BadInputTarget = { kind: 'path'; open: number } | { kind: 'option'; open: number; key: string } | { kind: 'argument'; entryPoint: number; index: number };

/** Every target of a subject: each open's path and options, each method's arguments (one hostile extra for none). */
export function badInputTargets(subject: BadInputSubject<unknown>): BadInputTarget[] {
  const targets: BadInputTarget[] = [];
  subject.opens.forEach((_, open) => {
    targets.push({ kind: 'path', open });
    for (const key of Object.keys(subject.validOptions)) targets.push({ kind: 'option', open, key });
  });
  subject.entryPoints.forEach((entryPoint, index) => {
    for (let argument = 0; argument < Math.max(1, entryPoint.valid.length); argument++) targets.push({ kind: 'argument', entryPoint: index, index: argument });
  });
  return targets;
}

export function describeTarget(subject: BadInputSubject<unknown>, target: BadInputTarget): string {
  if (target.kind === 'argument') return `${subject.entryPoints[target.entryPoint]!.name} argument ${target.index}`;
  const open = subject.opens[target.open]!.name;
  return target.kind === 'path' ? `${open} path` : `${open} option ${target.key}`;
}

/**
 * Property: an open given a hostile path, or options with a hostile value planted at any
 * depth of one option, succeeds or throws a KeelError; a refused open of an existing
 * store leaves every file as it was.
 */
export function badOpenProperty<Store>(subject: BadInputSubject<Store>, target: Exclude<BadInputTarget, { kind: 'argument' }>): fc.IAsyncPropertyWithHooks<[unknown]> {
  const open = subject.opens[target.open]!;
  const hostile = target.kind === 'path' ? hostilePath() : planted(subject.validOptions[target.key], 1);
  return fc.asyncProperty(hostile, async (value) => {
    await withTempDirectory(subject.name, async (dir) => {
      const storePath = join(dir, subject.pathInDirectory);
      await subject.close(await subject.openPopulated(storePath));
      const before = directoryImage(dir);
      const path = target.kind === 'path' ? value : storePath;
      const options = target.kind === 'path' ? subject.validOptions : { ...subject.validOptions, [target.key]: value };
      const result = await outcome(`${open.name}(${target.kind === 'path' ? show(path) : 'path'}, ${show(options)})`, async () => {
        const opened = await open.open(path, options);
        await opened.close();
      });
      if (result !== 'ok' && !sameImage(before, directoryImage(dir))) {
        throw new Error(`${open.name} refused with ${result.code} but changed files in the store`);
      }
    });
  });
}

/**
 * Property: a public method of an open store, given a hostile value planted at any depth
 * of one argument, succeeds or throws a KeelError; afterwards the store still closes.
 */
export function badCallProperty<Store>(subject: BadInputSubject<Store>, target: Extract<BadInputTarget, { kind: 'argument' }>): fc.IAsyncPropertyWithHooks<[unknown]> {
  const entryPoint = subject.entryPoints[target.entryPoint]!;
  return fc.asyncProperty(planted(entryPoint.valid[target.index], 1), async (value) => {
    const args = [...entryPoint.valid];
    args[target.index] = value;
    await withTempDirectory(subject.name, async (dir) => {
      const store = await subject.openPopulated(join(dir, subject.pathInDirectory));
      try {
        await outcome(`${entryPoint.name}(${args.map(show).join(', ')})`, () => entryPoint.call(store, args));
      } finally {
        await subject.close(store);
      }
    });
  });
}

function show(value: unknown): string {
  return fc.stringify(value);
}

/**
 * Both properties for one backend, `runsPerTarget` generated values for every path,
 * option and argument; a failure names the call and prints fast-check's seed and path.
 */
export async function runBadInput<Store>(subject: BadInputSubject<Store>, runsPerTarget = BAD_INPUT_RUNS_PER_TARGET_DEFAULT): Promise<number> {
  const targets = badInputTargets(subject as BadInputSubject<unknown>);
  for (const target of targets) {
    const property = target.kind === 'argument' ? badCallProperty(subject, target) : badOpenProperty(subject, target);
    const examples = CLASSIC_WRONG_VALUES.map((value): [unknown] => [value]);
    await fc.assert(property as fc.IAsyncPropertyWithHooks<[unknown]>, { numRuns: runsPerTarget, examples });
  }
  return targets.length * runsPerTarget;
}
