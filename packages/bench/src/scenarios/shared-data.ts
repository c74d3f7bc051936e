/**
 * Large data sets (a 1 GiB journal, a 10M-record log) take seconds to build, so each is
 * built once per run, in the run's shared directory, and reused by every scenario and
 * round that reads it.
 */
const built = new Map<string, Promise<unknown>>();

export function buildOnce<Value>(key: string, build: () => Promise<Value>): Promise<Value> {
  let pending = built.get(key) as Promise<Value> | undefined;
  if (pending === undefined) {
    pending = build();
    built.set(key, pending);
    // A failed build is retried by the next scenario rather than cached.
    pending.catch(() => built.delete(key));
  }
  return pending;
}

const closers: (() => Promise<void>)[] = [];

/** Registers the closing of a shared store, run once every scenario is done. */
export function onRunEnd(close: () => Promise<void>): void {
  closers.push(close);
}

/** Closes every shared store and forgets what was built (the run removes the files). */
export async function closeSharedData(): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
  built.clear();
}

/**
 * One open store for the several systems of a scenario that read it different ways (a
 * store's lock admits one writable handle): the first `acquire` opens it, the last
 * `release` closes it.
 */
export function sharedHandle<Store extends { close(): Promise<void> }>(open: () => Promise<Store>): { acquire(): Promise<Store>; release(): Promise<void> } {
  let opened: Promise<Store> | undefined;
  let users = 0;
  return {
    acquire() {
      users++;
      opened ??= open();
      return opened;
    },
    async release() {
      users--;
      if (users > 0 || opened === undefined) return;
      const store = await opened;
      opened = undefined;
      await store.close();
    },
  };
}
