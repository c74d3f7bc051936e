import { KeelError, STORE_ID_BYTES, joinPath, startsAsOurs, type Io } from '@keel/core';
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader, mappingFileName, payloadFrameBytes } from './format.js';
import { readMappingBody, type MappingCheck, type MappingRecord } from './mapping-file.js';
import type { SurveyedSegment } from './segment.js';

/** What open may do about one mapping file, proven from the store's own files. */
export type MappingVerdict =
  /** The output never got its name, or an abort removed it: the mapping is ours and can go. */
  | { readonly action: 'discard' }
  /** Output and every source present: a compaction waiting for commit or abort. */
  | { readonly action: 'pending'; readonly record: MappingRecord }
  /** Output present, some source gone: a commit was removing its sources. */
  | { readonly action: 'finish-commit'; readonly record: MappingRecord };

/**
 * Decides what a mapping file proves, reading only (the body only once its output
 * segment's size has been checked, so nothing is allocated beyond what that segment can
 * hold). Throws KEEL_CORRUPT for anything a crash of this store cannot leave behind.
 */
export function judgeMapping(io: Io, dir: string, output: number, check: MappingCheck, segments: ReadonlyMap<number, SurveyedSegment>): MappingVerdict {
  const path = joinPath(dir, mappingFileName(output));
  const refuse = (reason: string) => new KeelError('KEEL_CORRUPT', `${path}: ${reason}; nothing was changed`, { path, offset: 0 });
  if (check.state === 'foreign') throw refuse(`not a mapping of this store (${check.reason})`);
  if (check.state === 'valid' && check.header.output !== output) throw refuse(`names output segment ${check.header.output}, its file name says ${output}`);
  const outputSegment = segments.get(output);
  if (outputSegment === undefined) return { action: 'discard' };
  // The mapping is made durable before its output gets its name: damage, not a crash.
  if (check.state === 'torn') throw refuse('damaged although its compaction finished');
  const { header, fileBytes } = check;
  if (outputSegment.kind !== 'compaction') throw refuse(`segment ${output} is not a compaction output (it is ${outputSegment.kind})`);
  if (outputSegment.order !== header.outputOrder || outputSegment.size !== header.outputBytes) {
    throw refuse(`segment ${output} (order ${outputSegment.order}, ${outputSegment.size} bytes) is not the output it records (order ${header.outputOrder}, ${header.outputBytes} bytes)`);
  }
  const record = readMappingBody(io, path, header, fileBytes);
  if (record === null) throw refuse('damaged although its compaction finished (checksum or offset check failed)');
  const reason = disproveRecord(record, segments);
  if (reason !== null) throw refuse(reason);
  const complete = record.sources.every((source) => segments.has(source));
  return complete ? { action: 'pending', record } : { action: 'finish-commit', record };
}

/** Why `record` cannot be a compaction this store made over the segments present, or null. */
function disproveRecord(record: MappingRecord, segments: ReadonlyMap<number, SurveyedSegment>): string | null {
  return checkSources(record, segments) ?? checkEntries(record, segments);
}

/**
 * Sources are distinct segments older than the output, each sealed when it was compacted
 * (the newest append segment, which takes appends, is never one), and they cover a
 * prefix of append order: no segment left outside them holds older payloads.
 */
function checkSources(record: MappingRecord, segments: ReadonlyMap<number, SurveyedSegment>): string | null {
  const sources = new Set(record.sources);
  let previous = 0;
  for (const source of record.sources) {
    if (source <= previous || source >= record.output) return `source ${source} is out of order or not older than output ${record.output}`;
    previous = source;
  }
  let newestAppend = 0;
  let sourceOrderMax = 0;
  let sourceOrderMin = Infinity;
  for (const [segment, surveyed] of segments) {
    if (segment !== record.output && surveyed.kind !== 'compaction') newestAppend = Math.max(newestAppend, segment);
    if (!sources.has(segment)) continue;
    if (surveyed.kind === 'torn') return `source ${segment} never held a payload (its creation was torn)`;
    sourceOrderMax = Math.max(sourceOrderMax, surveyed.order);
    sourceOrderMin = Math.min(sourceOrderMin, surveyed.order);
  }
  if (sources.has(newestAppend)) return `source ${newestAppend} is the newest append segment, which is never sealed for compaction`;
  if (sourceOrderMin < record.outputOrder) return `a source holds payloads older than the output's order ${record.outputOrder}`;
  const complete = record.sources.every((source) => segments.has(source));
  if (complete && sourceOrderMin !== record.outputOrder) return `the output's order ${record.outputOrder} is not its oldest source's (${sourceOrderMin})`;
  for (const [segment, surveyed] of segments) {
    if (segment === record.output || sources.has(segment) || surveyed.kind === 'torn') continue;
    if (surveyed.order <= sourceOrderMax) return `segment ${segment} holds payloads as old as the sources but is not one`;
  }
  return null;
}

/** Every entry moves a payload of a source, and the entries tile the output exactly, frame after frame. */
function checkEntries(record: MappingRecord, segments: ReadonlyMap<number, SurveyedSegment>): string | null {
  const sources = new Set(record.sources);
  let position = SEGMENT_HEADER_BYTES;
  for (const { from, to } of record.entries) {
    if (!sources.has(from.segment)) return `an entry moves a payload of segment ${from.segment}, which is not a source`;
    if (from.offset < SEGMENT_HEADER_BYTES) return `an entry's old offset ${from.offset} is inside a segment header`;
    const source = segments.get(from.segment);
    if (source !== undefined && from.offset + payloadFrameBytes(from.length) > source.size) return `an entry's old ref ${from.segment}:${from.offset} lies past the end of its segment`;
    if (to.offset !== position) return `entries do not tile the output (expected offset ${position}, found ${to.offset})`;
    position += payloadFrameBytes(to.length);
  }
  if (position !== record.outputBytes) return `entries end at ${position}, the output at ${record.outputBytes}`;
  return null;
}

/** The bytes a compaction output header starts with: magic, version, kind, segment number (not its order). */
const COMPACTING_PREFIX_BYTES = 12;

/**
 * A `.compacting` file is removed on open only when it is ours: it starts with a
 * compaction output header for its number (whole, or what a crash left of its write:
 * each byte ours or a hole).
 */
export function isOurCompactingFile(io: Io, path: string, segment: number): boolean {
  const file = io.open(path);
  try {
    const head = new Uint8Array(SEGMENT_HEADER_BYTES);
    const read = file.readSync(head, 0);
    const prefix = encodeSegmentHeader({ segment, kind: 'compaction', order: segment, storeId: new Uint8Array(STORE_ID_BYTES), predecessor: 0, boundEnd: 0 }).subarray(0, COMPACTING_PREFIX_BYTES);
    return startsAsOurs(head.subarray(0, read), prefix);
  } finally {
    file.closeSync();
  }
}
