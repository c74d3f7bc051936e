/**
 * The contents of one file as a sequence of operations since the last sync. A crash
 * keeps some of these operations (all, none, a prefix, a subset, torn pieces); applying
 * the kept ones to the durable bytes gives the file a crash leaves behind.
 */
export type PendingOperation =
  | {
      readonly kind: 'write';
      readonly sequence: number;
      readonly position: number;
      readonly data: Uint8Array;
      /**
       * Where the disk stores this write, when not at `position` (a write fate): another
       * offset (misplaced), or nowhere (null: lost). Reads through the page cache still
       * see it at `position` until a crash.
       */
      readonly landsAt?: number | null;
    }
  | { readonly kind: 'set-length'; readonly sequence: number; readonly length: number };

/** The operations as the disk stores them: a lost write is dropped, a misplaced one is where it landed. */
export function storedOperations(operations: readonly PendingOperation[]): PendingOperation[] {
  return operations.flatMap((operation): PendingOperation[] => {
    if (operation.kind !== 'write' || operation.landsAt === undefined) return [operation];
    if (operation.landsAt === null) return [];
    return [{ kind: 'write', sequence: operation.sequence, position: operation.landsAt, data: operation.data }];
  });
}

/** Writes `data` at `position`, extending with zeros when the file is shorter. */
export function writeAt(image: Uint8Array, position: number, data: Uint8Array): Uint8Array {
  const end = position + data.length;
  const out = end > image.length ? grow(image, end) : image;
  out.set(data, position);
  return out;
}

export function setLength(image: Uint8Array, length: number): Uint8Array {
  if (length <= image.length) return image.slice(0, length);
  return grow(image, length);
}

function grow(image: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(image);
  return out;
}

/** Applies `operations` in order to a copy of `base`. */
export function applyOperations(base: Uint8Array, operations: readonly PendingOperation[]): Uint8Array {
  let image: Uint8Array = copyBytes(base);
  for (const operation of operations) {
    image = operation.kind === 'write' ? writeAt(image, operation.position, operation.data) : setLength(image, operation.length);
  }
  return image;
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return false;
  return true;
}

/**
 * A copy that owns its bytes. `Buffer#slice` returns a view, so `.slice()` on a caller's
 * buffer would keep aliasing memory the caller reuses.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
