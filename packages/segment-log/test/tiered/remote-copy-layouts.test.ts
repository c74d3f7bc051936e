// Both layouts of a remote copy read back the same records: the indexes appended to the
// .log object (offload event version 2, what the uploader writes) and the indexes as
// objects of their own (version 1, what copies recorded before hold).
import { remoteChecksum } from '@keel/core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { SegmentLog } from '../../src/index.js';
import type { CopiedFiles } from '../../src/tiered/offload-event.js';
import { remoteKey } from '../../src/tiered/remote-keys.js';
import { RemoteSegmentReader, type FinishedCopy } from '../../src/tiered/remote-segment-reader.js';
import { MemoryRemoteStore } from '../support/memory-remote-store.js';
import { sealedSegments } from '../support/sealed-segments.js';

const COPY_ID = '0123456789abcdef';
const LIMITS = { maxBytes: Number.MAX_SAFE_INTEGER, maxRecords: Number.MAX_SAFE_INTEGER };

describe('remote copy layouts', () => {
  it('a copy with its indexes in the .log object and one with them apart read back the local records', async () => {
    const { dir, segments } = await sealedSegments(1, 300);
    const segment = segments[0]!;
    const log = await SegmentLog.open(dir, { readOnly: true });
    const local = log.read(segment.baseOffset, LIMITS).filter((record) => record.offset < segment.nextOffset);
    await log.close();
    expect(local).toHaveLength(20);

    const bytes = { log: readFileSync(segment.paths.log), index: readFileSync(segment.paths.offsetIndex), timeindex: readFileSync(segment.paths.timeIndex) };
    const files = Object.fromEntries(Object.entries(bytes).map(([kind, file]) => [kind, { bytes: file.length, checksum: remoteChecksum(file) }])) as CopiedFiles;
    const copy = (indexesInLog: boolean): FinishedCopy => ({ baseOffset: segment.baseOffset, copyId: COPY_ID, nextOffset: segment.nextOffset, maxTimestamp: segment.maxTimestamp, files, indexesInLog });

    const appended = new MemoryRemoteStore();
    await appended.put(remoteKey(segment.baseOffset, COPY_ID, 'log'), Buffer.concat([bytes.log, bytes.index, bytes.timeindex]));
    const apart = new MemoryRemoteStore();
    for (const kind of ['log', 'index', 'timeindex'] as const) await apart.put(remoteKey(segment.baseOffset, COPY_ID, kind), bytes[kind]);

    for (const [store, indexesInLog] of [[appended, true], [apart, false]] as const) {
      const reader = new RemoteSegmentReader(store, 0);
      const records = await reader.read(copy(indexesInLog), segment.baseOffset, LIMITS);
      expect(records.map((record) => [record.offset, record.timestamp, Buffer.from(record.value!).toString('hex')]), `indexes in log: ${indexesInLog}`)
        .toEqual(local.map((record) => [record.offset, record.timestamp, Buffer.from(record.value!).toString('hex')]));
      expect(await reader.offsetForTimestamp(copy(indexesInLog), segment.maxTimestamp)).toBe(local.find((record) => record.timestamp >= segment.maxTimestamp)!.offset);
    }
    // Read as the other layout, each copy is refused, not misread.
    await expect(new RemoteSegmentReader(appended, 0).read(copy(false), segment.baseOffset, LIMITS)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    await expect(new RemoteSegmentReader(apart, 0).read(copy(true), segment.baseOffset, LIMITS)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  });
});
