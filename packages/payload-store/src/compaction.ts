import { joinPath, removeIfPresent, removeIfPresentAsync, renameDurably, writeNewFile, type Io } from '@keel/core';
import { copyLive } from './compaction-copy.js';
import { SEGMENT_HEADER_BYTES, compactingFileName, encodeSegmentHeader, mappingFileName, payloadFrameBytes, segmentFileName, type SegmentIdentity } from './format.js';
import { MappingEncoder, type MappingEntry, type MappingRecord } from './mapping-file.js';
import { PayloadRef } from './payload-ref.js';
import type { SegmentState } from './segment.js';
import { closeFile, closeQuietly } from './writer.js';

/** What compaction needs from the store. */
export interface CompactionHost {
  readonly io: Io;
  readonly dir: string;
  readonly segments: Map<number, SegmentState>;
  /** The store's identity, recorded in every mapping so that recovery can tell it is ours. */
  readonly storeId: Uint8Array;
  allocateSegment(): number;
}

/** Phase one's result: the durable record, the output's order, and each moved ref's key → its new ref. */
export interface WrittenCompaction {
  readonly record: MappingRecord;
  readonly order: number;
  readonly moves: Map<string, PayloadRef>;
}

/**
 * Phase one of compaction: writes the live payloads into a new segment and records the
 * old-to-new map, both durably, and only then gives the segment its final name. When it
 * returns, old and new refs both resolve; nothing has been deleted. A live payload that
 * does not verify aborts it, and what it wrote so far is removed.
 */
export async function writeCompaction(host: CompactionHost, sources: ReadonlyMap<number, number>, live: readonly PayloadRef[]): Promise<WrittenCompaction> {
  const { io, dir } = host;
  const output = host.allocateSegment();
  const order = Math.min(...sources.values());
  const temporaryPath = joinPath(dir, compactingFileName(output));
  const finalPath = joinPath(dir, segmentFileName(output));
  const mappingPath = joinPath(dir, mappingFileName(output));
  try {
    // Written whole: its header records its own size, which binds where it ends.
    let outputBytes = SEGMENT_HEADER_BYTES;
    for (const ref of live) outputBytes += payloadFrameBytes(ref.length);
    const sourceNumbers = [...sources.keys()].sort((left, right) => left - right);
    const summary = { storeId: host.storeId, output, outputOrder: order, outputBytes, sources: sourceNumbers };
    // Entries go into the mapping's bytes and the plan's map as each payload moves.
    const mapping = new MappingEncoder(summary, live.length);
    const entries: MappingEntry[] = [];
    const moves = new Map<string, PayloadRef>();
    const identity: SegmentIdentity = { segment: output, kind: 'compaction', order, storeId: host.storeId, predecessor: 0, boundEnd: outputBytes };
    await writeOutputSegment(host, temporaryPath, identity, live, (entry) => {
      entries.push(entry);
      mapping.add(entry);
      moves.set(PayloadRef.key(entry.from), Object.freeze(entry.to));
    });
    // The mapping is created exclusively at its own name (recovery reads a torn one as
    // torn), and its entry is durable before the output is renamed into place.
    await writeNewFile(io, mappingPath, mapping.finish());
    await io.syncDir(dir);
    await renameDurably(io, temporaryPath, finalPath);
    return { record: { ...summary, entries }, order, moves };
  } catch (error) {
    for (const path of [temporaryPath, finalPath, mappingPath]) removeQuietly(io, path);
    throw error;
  }
}

async function writeOutputSegment(host: CompactionHost, path: string, identity: SegmentIdentity, live: readonly PayloadRef[], moved: (entry: MappingEntry) => void): Promise<void> {
  const file = host.io.open(path, { create: true, truncate: true });
  try {
    await file.write(encodeSegmentHeader(identity), 0);
    const end = await copyLive({ io: host.io, dir: host.dir, segments: host.segments, file, output: identity.segment }, live, SEGMENT_HEADER_BYTES, moved);
    if (end !== identity.boundEnd) throw new Error(`compaction output ends at ${end}, its header says ${identity.boundEnd}`);
    await file.datasync();
  } finally {
    closeQuietly(file);
  }
}

/** Phase two: the caller has switched to the new refs, so the sources can go. */
export async function deleteSources(host: Pick<CompactionHost, 'io' | 'dir' | 'segments'>, record: MappingRecord): Promise<void> {
  for (const segment of record.sources) forgetSegment(host.segments, segment);
  // Off the event loop, side by side: an unlink frees the file's cached pages and blocks,
  // tens of ms for a large segment. Any order is safe: open finishes a commit that lost any source.
  await settleAll(record.sources.map((segment) => removeIfPresentAsync(host.io, joinPath(host.dir, segmentFileName(segment)))));
  await host.io.syncDir(host.dir);
  removeIfPresent(host.io, joinPath(host.dir, mappingFileName(record.output)));
  await host.io.syncDir(host.dir);
}

/** Undoes phase one: the output segment goes first, so a crash leaves no half-state that resolves new refs. */
export async function deleteOutput(host: Pick<CompactionHost, 'io' | 'dir' | 'segments'>, record: MappingRecord): Promise<void> {
  forgetSegment(host.segments, record.output);
  await removeIfPresentAsync(host.io, joinPath(host.dir, segmentFileName(record.output)));
  await host.io.syncDir(host.dir);
  removeIfPresent(host.io, joinPath(host.dir, mappingFileName(record.output)));
  await host.io.syncDir(host.dir);
}

/** Waits for every operation, then throws the first failure: nothing is left running behind an error. */
async function settleAll(operations: readonly Promise<void>[]): Promise<void> {
  const outcomes = await Promise.allSettled(operations);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
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
