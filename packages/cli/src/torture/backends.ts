import type { RecoveryReport } from '@keel/core';
import { joinPath } from '@keel/core';
import { Journal } from '@keel/journal';
import { PayloadStore } from '@keel/payload-store';
import { SegmentLog } from '@keel/segment-log';
import { WalKv } from '@keel/wal-kv';
import type { BackendName } from '../detect.js';
import { checkPayload, makePayload } from './payload.js';

/** Small segments and frequent checkpoints, so that kills land inside rolls and maintenance too. */
const SEGMENT_BYTES = 256 * 1024;

export type TortureDurability = 'explicit' | 'every-write';

/** A store under torture: writes resolve once durable (the acknowledgement). */
export interface TortureWriter {
  write(ids: readonly number[]): Promise<void>;
}

export interface Survey {
  ids: Set<number>;
  damaged: number;
  recovery: RecoveryReport;
}

export async function openWriter(backend: BackendName, dir: string, durability: TortureDurability): Promise<TortureWriter> {
  const payloads = (ids: readonly number[]): Uint8Array[] => ids.map(makePayload);
  switch (backend) {
    case 'journal': {
      const journal = await Journal.open(joinPath(dir, 'torture.wal'), { durability });
      return { write: async (ids) => void (await journal.syncThrough(journal.appendBatch(payloads(ids)))) };
    }
    case 'segment-log': {
      const log = await SegmentLog.open(dir, { durability, segmentBytes: SEGMENT_BYTES });
      return { write: async (ids) => void (log.appendBatch(payloads(ids).map((value) => ({ value }))), await log.sync()) };
    }
    case 'payload-store': {
      const store = await PayloadStore.open(dir, { durability, segmentBytes: SEGMENT_BYTES });
      return { write: async (ids) => void (store.appendBatch(payloads(ids)), await store.sync()) };
    }
    case 'wal-kv': {
      const kv = await WalKv.open<Uint8Array>(dir, { durability, checkpointEveryBytes: SEGMENT_BYTES });
      return { write: async (ids) => void (kv.putBatch(ids.map((id) => [`k${id}`, makePayload(id)] as const)), await kv.sync()) };
    }
  }
}

/** Opens for writing (so recovery runs, as after a real crash), reads every record back and closes. */
export async function survey(backend: BackendName, dir: string): Promise<Survey> {
  const ids = new Set<number>();
  let damaged = 0;
  const note = (payload: Uint8Array): void => {
    const id = checkPayload(payload);
    if (id === null) damaged++;
    else ids.add(id);
  };
  switch (backend) {
    case 'journal': {
      const journal = await Journal.open(joinPath(dir, 'torture.wal'));
      for (const record of journal.records()) note(record.payload);
      await journal.close();
      return { ids, damaged, recovery: journal.recovery };
    }
    case 'segment-log': {
      const log = await SegmentLog.open(dir, { segmentBytes: SEGMENT_BYTES });
      for await (const record of log.stream()) note(record.value);
      await log.close();
      return { ids, damaged, recovery: log.recovery };
    }
    case 'payload-store': {
      const store = await PayloadStore.open(dir, { segmentBytes: SEGMENT_BYTES });
      for (const { payload } of store.scan()) note(payload);
      await store.close();
      return { ids, damaged, recovery: store.recovery };
    }
    case 'wal-kv': {
      const kv = await WalKv.open<Uint8Array>(dir, { checkpointEveryBytes: SEGMENT_BYTES });
      for (const [key, value] of kv.entries()) {
        const id = checkPayload(value);
        if (id === null || key !== `k${id}`) damaged++;
        else ids.add(id);
      }
      await kv.close();
      return { ids, damaged, recovery: kv.recovery };
    }
  }
}
