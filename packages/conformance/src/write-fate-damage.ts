import { KvModel, type Model } from './model.js';

/**
 * Payload bytes a record needs to be found by its bytes in a file: fewer could be matched
 * by chance (a 4-byte payload is just its id). Scenarios of faults 16 and 17 write no
 * smaller payload (see ScenarioState).
 */
export const ANCHOR_BYTES_MIN = 8;
/** Bytes of a record's frame before its payload (frame header, offset, seq, key…) in any keel format, at most. */
const FRAME_BYTES_BEFORE_PAYLOAD_MAX = 48;
/** Bytes of a record's frame after its payload (header count, checksum), at most. */
const FRAME_BYTES_AFTER_PAYLOAD_MAX = 16;

/** Operations a damaged write may have taken with it: indices in [from, to) of the model (to may be Infinity). */
export interface TouchedOperations {
  readonly from: number;
  readonly to: number;
  /** Every damaged region is a file ending early: what the disk holds stops before it (see BackendSupports.unboundSegmentEnds). */
  readonly atFileEnds: boolean;
}

interface Anchor {
  readonly start: number;
  readonly end: number;
  /** The record's index (logs) or its operation's (key-value stores). */
  readonly index: number;
}

/**
 * Which operations a lost or misplaced write can have damaged: compares each file as the
 * store wrote it (`intended`, what reads saw) with what the disk holds (`stored`), and
 * maps every region that differs to the records around it. Records are found by their
 * payload bytes (each unique: id, then filler derived from it); a region touches the
 * records whose frames reach it and every record between the nearest found ones on
 * either side (records too small to find, deletes). Derived files and files that hold
 * no record touch nothing: damage there may cost no operation at all. Returns null when
 * no operation was touched.
 */
export function touchedOperations(model: Model, intended: ReadonlyMap<string, Uint8Array>, stored: ReadonlyMap<string, Uint8Array>, isDerived: (path: string) => boolean): TouchedOperations | null {
  const payloads = payloadsOf(model);
  const anchorsByFile = new Map([...intended].map(([path, bytes]) => [path, anchorsIn(bytes, payloads)]));
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  let atFileEnds = true;
  for (const [path, bytes] of intended) {
    if (isDerived(path)) continue;
    const disk = stored.get(path) ?? new Uint8Array(0);
    const regions = differingRegions(bytes, disk);
    if (regions.length === 0) continue;
    const anchors = anchorsByFile.get(path) as Anchor[];
    if (anchors.length === 0) {
      // A key-value log of deletes only has no payload to find: any operation found nowhere may be in it.
      const unfound = model instanceof KvModel ? firstUnfound(model, anchorsByFile) : null;
      if (unfound === null) continue;
      from = Math.min(from, unfound);
      to = Number.POSITIVE_INFINITY;
      atFileEnds &&= regions.every(([start, end]) => end === bytes.length && disk.length <= start);
      continue;
    }
    for (const [start, end] of regions) {
      const range = touchedBy(start, end, anchors, payloads);
      from = Math.min(from, range.from);
      to = Math.max(to, range.to);
      atFileEnds &&= end === bytes.length && disk.length <= start;
    }
  }
  return from < to ? { from, to, atFileEnds } : null;
}

function touchedBy(start: number, end: number, anchors: readonly Anchor[], payloads: readonly (readonly [number, Uint8Array])[]): { from: number; to: number } {
  let before: Anchor | undefined;
  let after: Anchor | undefined;
  for (const anchor of anchors) {
    if (anchor.end + FRAME_BYTES_AFTER_PAYLOAD_MAX <= start) before = anchor;
    else if (after === undefined && anchor.start - FRAME_BYTES_BEFORE_PAYLOAD_MAX >= end) after = anchor;
  }
  // Nothing found before the region (a file header, the file's first records): every
  // record since the last one found ahead of this file's first may have been in it.
  const first = anchors[0] as Anchor;
  const lowest = before?.index ?? Math.max(-1, ...payloads.map(([index]) => index).filter((index) => index < first.index && !anchors.some((anchor) => anchor.index === index)));
  return { from: lowest + 1, to: after?.index ?? Number.POSITIVE_INFINITY };
}

/** The first operation none of whose values was found in any file (a delete, say), or null. */
function firstUnfound(model: KvModel, anchorsByFile: ReadonlyMap<string, readonly Anchor[]>): number | null {
  const found = new Set<number>();
  for (const anchors of anchorsByFile.values()) for (const anchor of anchors) found.add(anchor.index);
  const index = model.operations.findIndex((_, operation) => !found.has(operation));
  return index < 0 ? null : index;
}

/** Every payload the model holds that is long enough to be found, with its record's or operation's index. */
function payloadsOf(model: Model): (readonly [number, Uint8Array])[] {
  if (model instanceof KvModel) {
    return model.operations.flatMap((batch, index) => batch.flatMap((operation) => (operation.type === 'put' && operation.value.length >= ANCHOR_BYTES_MIN ? [[index, operation.value] as const] : [])));
  }
  return model.records.flatMap((record, index) => (record.payload.length >= ANCHOR_BYTES_MIN ? [[index, record.payload] as const] : []));
}

/** Where each payload lies in `bytes`, in file order. */
function anchorsIn(bytes: Uint8Array, payloads: readonly (readonly [number, Uint8Array])[]): Anchor[] {
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const anchors: Anchor[] = [];
  for (const [index, payload] of payloads) {
    for (let at = haystack.indexOf(payload); at >= 0; at = haystack.indexOf(payload, at + 1)) anchors.push({ start: at, end: at + payload.length, index });
  }
  return anchors.sort((left, right) => left.start - right.start);
}

/** Maximal [start, end) ranges where the two images differ (a length difference included). */
function differingRegions(left: Uint8Array, right: Uint8Array): [number, number][] {
  const regions: [number, number][] = [];
  const length = Math.max(left.length, right.length);
  for (let at = 0; at < length; ) {
    if (at < left.length && at < right.length && left[at] === right[at]) {
      at++;
      continue;
    }
    const start = at;
    while (at < length && !(at < left.length && at < right.length && left[at] === right[at])) at++;
    regions.push([start, at]);
  }
  return regions;
}
