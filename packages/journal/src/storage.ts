/**
 * Growable byte storage for the log buffer. Plain storage is a Uint8Array; aligned
 * storage is the memory of a WebAssembly.Memory, whose first byte V8 places at a page
 * boundary, because O_DIRECT needs 4096-aligned source buffers and Node cannot allocate
 * aligned memory on its own (the native addon can, but a backend may not import it).
 */
export interface ByteStorage {
  readonly bytes: Uint8Array;
  /** Makes `bytes.length >= minimumBytes`, keeping the first `keepBytes` bytes. */
  grow(minimumBytes: number, keepBytes: number): void;
  /** Replaces the storage with a smaller one of about `bytes`, keeping the first `keepBytes` bytes. */
  shrink(bytes: number, keepBytes: number): void;
}

const WASM_PAGE_BYTES = 64 * 1024;

/** The slice of the WebAssembly API used here (the DOM lib that declares it is not loaded). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => WasmMemory };

export class PlainStorage implements ByteStorage {
  bytes: Uint8Array;

  constructor(initialBytes: number) {
    this.bytes = new Uint8Array(initialBytes);
  }

  grow(minimumBytes: number, keepBytes: number): void {
    if (minimumBytes <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(minimumBytes, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, keepBytes));
    this.bytes = grown;
  }

  shrink(bytes: number, keepBytes: number): void {
    const smaller = new Uint8Array(Math.max(bytes, keepBytes));
    smaller.set(this.bytes.subarray(0, keepBytes));
    this.bytes = smaller;
  }
}

export class AlignedStorage implements ByteStorage {
  #memory: WasmMemory;
  bytes: Uint8Array;

  constructor(initialBytes: number) {
    this.#memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / WASM_PAGE_BYTES)) });
    this.bytes = new Uint8Array(this.#memory.buffer);
  }

  grow(minimumBytes: number, _keepBytes: number): void {
    if (minimumBytes <= this.bytes.length) return;
    const wanted = Math.max(minimumBytes, this.bytes.length * 2);
    // Growing keeps the contents and the alignment; the old view is detached.
    this.#memory.grow(Math.ceil((wanted - this.bytes.length) / WASM_PAGE_BYTES));
    this.bytes = new Uint8Array(this.#memory.buffer);
  }

  shrink(bytes: number, keepBytes: number): void {
    // A WebAssembly memory cannot shrink: a new one replaces it, and the old one is freed.
    const kept = this.bytes.slice(0, keepBytes);
    this.#memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(Math.max(bytes, keepBytes) / WASM_PAGE_BYTES)) });
    this.bytes = new Uint8Array(this.#memory.buffer);
    this.bytes.set(kept);
  }
}
