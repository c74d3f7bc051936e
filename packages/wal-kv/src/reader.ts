import { Buffer } from 'node:buffer';
import { KeelError, crc32c, verifiedValueCopy, type IoFile } from '@keel/core';
import { VALUE_CRC_BYTES } from './format.js';
import { MAP_REMAP_GROWTH_BYTES, MAP_SEGMENT_BYTES } from './limits.js';

/**
 * The read side of one log file: values read back and verified against the CRC-32C in
 * front of them, which covers the key too, so a value read for the wrong key (a swapped
 * or misdirected write) is refused like a damaged one. Bytes below `readableThrough` are
 * read through read-only mappings of whole segments (no syscall per read) where the Io
 * can map, else with one positional read.
 */
export class LogReader {
  readonly #file: IoFile;
  readonly #path: string;
  #maps: Uint8Array[] = [];
  #mapUnsupported = false;

  constructor(file: IoFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /**
   * The segments mapped so far: entry i, when set, maps log bytes from i ×
   * MAP_SEGMENT_BYTES on, the whole segment or (the last one) as far as it was readable
   * then; all of them are below the flushed end, which only grows. A read of a value in
   * an unmapped segment maps it. The array is replaced, never changed, when a mapping is added.
   */
  get segments(): ReadonlyArray<Uint8Array | undefined> {
    return this.#maps;
  }

  /** The value at `position` of the key whose CRC-32C is `keyCrc`, as a copy the caller may keep and write into. */
  readValue(keyCrc: number, position: number, length: number, readableThrough: number): Buffer {
    const map = this.#mapFor(position, VALUE_CRC_BYTES + length, readableThrough);
    if (map !== null) {
      // Checked and copied out of the mapping in one native call.
      const value = verifiedValueCopy(map, position % MAP_SEGMENT_BYTES, length, keyCrc);
      if (value === null) throw this.#failsCrc(position);
      return value;
    }
    // A mapping is read-only and must not be handed out (a write into it would crash);
    // a buffer read for this call can be.
    return this.#verified(this.#read(position, length), position, keyCrc).subarray(VALUE_CRC_BYTES);
  }

  #read(position: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafe(VALUE_CRC_BYTES + length);
    if (this.#file.readSync(bytes, position) !== bytes.length) {
      throw new KeelError('KEEL_CORRUPT', `${this.#path}: value at offset ${position} is cut short`, { path: this.#path, offset: position });
    }
    return bytes;
  }

  /**
   * Checks the CRC-32C in front of a value, which covers the key (its CRC, `keyCrc`, is
   * the seed) and the value; returns the same bytes.
   */
  #verified<T extends Uint8Array>(field: T, position: number, keyCrc: number): T {
    const stored = (field[0]! | (field[1]! << 8) | (field[2]! << 16) | (field[3]! << 24)) >>> 0;
    if (crc32c(field.subarray(VALUE_CRC_BYTES), keyCrc) !== stored) throw this.#failsCrc(position);
    return field;
  }

  #failsCrc(position: number): KeelError {
    return new KeelError('KEEL_CORRUPT', `${this.#path}: value at offset ${position} fails its CRC-32C (damaged, or not the value of this key)`, { path: this.#path, offset: position });
  }

  /**
   * The mapping of the segment holding all of [position, position + bytes), wholly below
   * `readableThrough`, or null (read it with pread). The last segment, not yet whole, is
   * mapped as far as it is readable, and mapped again only once it grew by
   * MAP_REMAP_GROWTH_BYTES or became whole: a new mapping faults its pages in afresh, so
   * reads of the newest bytes in between take pread instead.
   */
  #mapFor(position: number, bytes: number, readableThrough: number): Uint8Array | null {
    if (this.#mapUnsupported) return null;
    const segment = Math.floor(position / MAP_SEGMENT_BYTES);
    const segmentStart = segment * MAP_SEGMENT_BYTES;
    const end = position + bytes;
    if (end > segmentStart + MAP_SEGMENT_BYTES || end > readableThrough) return null;
    let map = this.#maps[segment];
    if (map !== undefined && end <= segmentStart + map.length) return map;
    const length = Math.min(MAP_SEGMENT_BYTES, readableThrough - segmentStart);
    if (map !== undefined && length < MAP_SEGMENT_BYTES && length - map.length < MAP_REMAP_GROWTH_BYTES) return null;
    try {
      // Safe to map: these bytes exist and the log is never truncated while open.
      map = this.#file.mapSync(segmentStart, length);
    } catch {
      this.#mapUnsupported = true;
      return null;
    }
    // A new array, not a changed one: a reader that bound the array (KeyIndex.read)
    // sees by its identity that it must bind it again.
    const maps = this.#maps.slice();
    maps[segment] = map;
    this.#maps = maps;
    return map;
  }
}
