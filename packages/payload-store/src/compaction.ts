import { KeelError, isKeelError, joinPath, removeIfPresent, renameDurably, writeNewFile, type Io, type IoFile } from '@keel/core';
import { SEGMENT_HEADER_BYTES, compactingFileName, encodeSegmentHeader, mappingFileName, payloadFrameBytes, segmentFileName, type SegmentIdentity } from './format.js';
import { encodeBoundFrames } from './frame-binding.js';
import { encodeMapping, type MappingEntry, type MappingRecord } from './mapping-file.js';
import { PayloadRef } from './payload-ref.js';
import type { SegmentState } from './segment.js';
import { closeFile, closeQuietly } from './writer.js';

/** Compaction output is written in batches of about this many bytes: one write each. */
export const COMPACTION_WRITE_BYTES = 4 * 1024 * 1024;

/** What compaction needs from the store. */
export interface CompactionHost {
  readonly io: Io;
  readonly dir: string;
  readonly segments: Map<number, SegmentState>;
  /** The store's identity, recorded in every mapping so that recovery can tell it is ours. */
  readonly storeId: Uint8Array;
  allocateSegment(): number;
  /** Reads and verifies one payload (zero-copy for sealed segments). */
  read(ref: PayloadRef): Uint8Array;
}

/**
 * The live refs that sit in `sources` (segment → order), once each, in append order:
 * by the segment's order, then segment, then offset. The output keeps payloads in the
 * order they were appended, and its reads stream through each source.
 */
export function selectLive(liveRefs: readonly PayloadRef[], sources: ReadonlyMap<number, number>): PayloadRef[] {
  const unique = new Map<string, PayloadRef>();
  for (const ref of liveRefs) if (sources.has(ref.segment)) unique.set(PayloadRef.key(ref), ref);
  const orderOf = (ref: PayloadRef) => sources.get(ref.segment) as number;
  return [...unique.values()].sort((left, right) => orderOf(left) - orderOf(right) || left.segment - right.segment || left.offset - right.offset);
}

/** Reads every live payload before anything is written; one unreadable payload aborts all. */
export function readLive(host: CompactionHost, live: readonly PayloadRef[]): Uint8Array[] {
  return live.map((ref) => {
    try {
      return host.read(ref);
    } catch (error) {
      throw new KeelError('KEEL_CORRUPT', `compaction aborted, nothing was changed: live payload ${PayloadRef.key(ref)} cannot be read (${isKeelError(error) ? error.code : String(error)})`, {
        path: joinPath(host.dir, segmentFileName(ref.segment)),
        offset: ref.offset,
        cause: error,
      });
    }
  });
}

/**
 * Phase one of compaction: writes the live payloads into a new segment and records the
 * old-to-new map, both durably, and only then gives the segment its final name. When it
 * returns, old and new refs both resolve; nothing has been deleted.
 */
export async function writeCompaction(
  host: CompactionHost,
  sources: ReadonlyMap<number, number>,
  live: readonly PayloadRef[],
  payloads: readonly Uint8Array[],
): Promise<{ record: MappingRecord; order: number }> {
  const { io, dir } = host;
  const output = host.allocateSegment();
  const order = Math.min(...sources.values());
  const temporaryPath = joinPath(dir, compactingFileName(output));
  const finalPath = joinPath(dir, segmentFileName(output));
  const mappingPath = joinPath(dir, mappingFileName(output));
  try {
    // Written whole: its header records its own size, which binds where it ends.
    let outputBytes = SEGMENT_HEADER_BYTES;
    for (const payload of payloads) outputBytes += payloadFrameBytes(payload.length);
    const identity: SegmentIdentity = { segment: output, kind: 'compaction', order, storeId: host.storeId, predecessor: 0, boundEnd: outputBytes };
    const entries = await writeOutputSegment(io, temporaryPath, identity, live, payloads);
    const sourceNumbers = [...sources.keys()].sort((left, right) => left - right);
    const record: MappingRecord = { storeId: host.storeId, output, outputOrder: order, outputBytes, sources: sourceNumbers, entries };
    // The mapping is created exclusively at its own name (recovery reads a torn one as
    // torn), and its entry is durable before the output is renamed into place.
    await writeNewFile(io, mappingPath, encodeMapping(record));
    await io.syncDir(dir);
    await renameDurably(io, temporaryPath, finalPath);
    return { record, order };
  } catch (error) {
    for (const path of [temporaryPath, finalPath, mappingPath]) removeQuietly(io, path);
    throw error;
  }
}

async function writeOutputSegment(
  io: Io,
  path: string,
  identity: SegmentIdentity,
  live: readonly PayloadRef[],
  payloads: readonly Uint8Array[],
): Promise<MappingEntry[]> {
  const output = identity.segment;
  const entries: MappingEntry[] = [];
  const file = io.open(path, { create: true, truncate: true });
  try {
    await file.write(encodeSegmentHeader(identity), 0);
    let position = SEGMENT_HEADER_BYTES;
    for (let start = 0; start < payloads.length; ) {
      let end = start;
      let bytes = 0;
      while (end < payloads.length && (end === start || bytes + payloadFrameBytes((payloads[end] as Uint8Array).length) <= COMPACTION_WRITE_BYTES)) {
        const from = live[end] as PayloadRef;
        entries.push({ from, to: { segment: output, offset: position + bytes, length: from.length } });
        bytes += payloadFrameBytes(from.length);
        end++;
      }
      await file.write(encodeBoundFrames(payloads.slice(start, end), output, position), position);
      position += bytes;
      start = end;
    }
    if (position !== identity.boundEnd) throw new Error(`compaction output ends at ${position}, its header says ${identity.boundEnd}`);
    await file.datasync();
    return entries;
  } finally {
    closeQuietly(file);
  }
}

/** Phase two: the caller has switched to the new refs, so the sources can go. */
export async function deleteSources(host: Pick<CompactionHost, 'io' | 'dir' | 'segments'>, record: MappingRecord): Promise<void> {
  for (const segment of record.sources) forgetSegment(host.segments, segment);
  for (const segment of record.sources) removeIfPresent(host.io, joinPath(host.dir, segmentFileName(segment)));
  await host.io.syncDir(host.dir);
  removeIfPresent(host.io, joinPath(host.dir, mappingFileName(record.output)));
  await host.io.syncDir(host.dir);
}

/** Undoes phase one: the output segment goes first, so a crash leaves no half-state that resolves new refs. */
export async function deleteOutput(host: Pick<CompactionHost, 'io' | 'dir' | 'segments'>, record: MappingRecord): Promise<void> {
  forgetSegment(host.segments, record.output);
  removeIfPresent(host.io, joinPath(host.dir, segmentFileName(record.output)));
  await host.io.syncDir(host.dir);
  removeIfPresent(host.io, joinPath(host.dir, mappingFileName(record.output)));
  await host.io.syncDir(host.dir);
}

function forgetSegment(segments: Map<number, SegmentState>, segment: number): void {
  const state = segments.get(segment);
  if (state === undefined) return;
  closeFile(state);
  // Views already handed out keep their mapping alive; the store just stops using it.
  state.view = null;
  segments.delete(segment);
}

function removeQuietly(io: Io, path: string): void {
  try {
    io.remove(path);
  } catch {
    // Clean-up after a failure is best effort; open removes whatever is left.
  }
}
