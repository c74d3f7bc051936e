import { KeelError } from '@keel/core';
import { HEADER_BYTES, OFFSET_ENTRY_BYTES, TIME_ENTRY_BYTES } from './format.js';
import { checkHeader } from './segment-files.js';
import type { Segment } from './segment.js';
import { corruptAt, scanRecords } from './segment-scan.js';

export interface VerifyReport {
  segments: number;
  records: number;
  bytes: number;
}

/**
 * Reads every frame of a segment and checks it against what open accepted: checksums,
 * offsets without gaps, the exact end, and every index entry (offset entries at frame
 * boundaries with their offset; time entries naming the record that set the max so far).
 */
export function verifySegment(segment: Segment): void {
  checkHeader(segment);
  const to = segment.sealed ? segment.log.sizeSync() : segment.size;
  const index = segment.index;
  let offsetEntry = 0;
  let timeEntry = 0;
  let runningMax = -Infinity;
  let runningMin = Infinity;
  let count = 0;
  const result = scanRecords(segment, HEADER_BYTES, segment.baseOffset, to, (record) => {
    const relative = record.offset - segment.baseOffset;
    count++;
    runningMax = Math.max(runningMax, record.timestamp);
    runningMin = Math.min(runningMin, record.timestamp);
    if (offsetEntry < index.offsetPosition.length && (index.offsetPosition[offsetEntry] as number) <= record.position) {
      if (index.offsetPosition[offsetEntry] !== record.position || index.offsetRelative[offsetEntry] !== relative) {
        throw indexCorrupt(segment.paths.offsetIndex, offsetEntry * OFFSET_ENTRY_BYTES, 'offset entry does not name a record boundary with its offset');
      }
      offsetEntry++;
    }
    if (timeEntry < index.timeRelative.length && index.timeRelative[timeEntry] === relative) {
      if (index.timeTimestamp[timeEntry] !== record.timestamp || record.timestamp !== runningMax) {
        throw indexCorrupt(segment.paths.timeIndex, timeEntry * TIME_ENTRY_BYTES, 'time entry does not name the record with the max timestamp so far');
      }
      timeEntry++;
    }
  }, 1 << 20);
  if (result.misnumberedAt !== null) throw corruptAt(segment, result.misnumberedAt, `record does not carry offset ${segment.baseOffset + count}`);
  if (result.tailState !== 'clean-end' || result.end !== to) throw corruptAt(segment, result.end, `frame damaged (${result.tailState})`);
  if (count !== segment.records) throw corruptAt(segment, result.end, `segment holds ${count} records, expected ${segment.records}`);
  if (offsetEntry !== index.offsetPosition.length) throw indexCorrupt(segment.paths.offsetIndex, offsetEntry * OFFSET_ENTRY_BYTES, 'offset entry beyond the records');
  if (timeEntry !== index.timeRelative.length) throw indexCorrupt(segment.paths.timeIndex, timeEntry * TIME_ENTRY_BYTES, 'time entry out of order or beyond the records');
  if (count > 0 && segment.minTimestamp !== undefined && segment.minTimestamp !== runningMin) {
    throw indexCorrupt(segment.paths.timeIndex, 0, `smallest timestamp ${segment.minTimestamp} is not the segment's ${runningMin}`);
  }
}

function indexCorrupt(path: string, offset: number, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `index ${path} is inconsistent with its log at byte ${offset}: ${what}`, { path, offset });
}
