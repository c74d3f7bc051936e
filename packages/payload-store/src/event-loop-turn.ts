/**
 * Per-item work over an input of unbounded size (a compaction's live refs) runs in slices
 * of this many items, with a turn of the event loop between them, so that timers and I/O
 * callbacks of the rest of the process wait for one slice at most.
 */
export const ITEMS_PER_TURN = 8192;

/** Resolves on the next turn of the event loop, after pending I/O callbacks have run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Calls `each` on every item of `items`, yielding the event loop every ITEMS_PER_TURN items. */
export async function forEachSliced<T>(items: readonly T[], each: (item: T, index: number) => void): Promise<void> {
  for (let start = 0; start < items.length; start += ITEMS_PER_TURN) {
    if (start > 0) await nextTurn();
    const end = Math.min(items.length, start + ITEMS_PER_TURN);
    for (let index = start; index < end; index++) each(items[index] as T, index);
  }
}
