import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, KeelError, SCAN_CHUNK_BYTES_DEFAULT, checkFrameAt, type IoFile } from '@keel/core';
import { JOURNAL_FRAME_FORMAT } from './format.js';
import type { JournalRecord } from './records.js';

export interface StreamSource {
  file: IoFile;
  /** The end of what may be read now: hands buffered frames to the OS first. */
  refreshEnd(): number;
  signal: AbortSignal | undefined;
}

/**
 * Reads records with asynchronous reads (off the event loop) through one chunk buffer.
 * The end is refreshed whenever the stream catches up with it, so records appended while
 * the stream runs are seen; the stream ends once it has caught up.
 */
export async function* streamRecords(source: StreamSource, from: number): AsyncGenerator<JournalRecord, void, undefined> {
  const { file, signal } = source;
  let buffer = new Uint8Array(SCAN_CHUNK_BYTES_DEFAULT);
  let bufferStart = from;
  let filled = 0;
  let position = from;
  let end = from;
  let refilled = false;
  for (;;) {
    signal?.throwIfAborted();
    if (position >= end) end = source.refreshEnd();
    if (position >= end) return;
    const window = buffer.subarray(position - bufferStart, Math.max(position - bufferStart, Math.min(filled, end - bufferStart)));
    const check = checkFrameAt(window, 0, JOURNAL_FRAME_FORMAT);
    const incomplete = !check.ok && (check.state === 'truncated-header' || check.state === 'truncated-payload');
    if (incomplete && !refilled) {
      // The header's length was checked against its bound before it sizes the buffer.
      const announced = window.length >= FRAME_HEADER_BYTES ? new DataView(window.buffer, window.byteOffset).getUint32(4, true) : 0;
      if (announced + FRAME_OVERHEAD_BYTES > buffer.length) buffer = new Uint8Array(announced + FRAME_OVERHEAD_BYTES);
      bufferStart = position;
      filled = await file.read(buffer.subarray(0, Math.min(buffer.length, end - position)), position);
      refilled = true;
      continue;
    }
    if (!check.ok) throw damaged(file.path, position, position === from && from > 0, check.state);
    refilled = false;
    position += check.frameBytes;
    yield { lsn: position, payload: window.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + check.payloadLength) };
  }
}

function damaged(path: string, offset: number, atFrom: boolean, state: string): KeelError {
  if (atFrom) return new KeelError('KEEL_BAD_ARGUMENT', `from ${offset} is not the LSN of a record in ${path}`, { path, offset });
  return new KeelError('KEEL_CORRUPT', `${path} is damaged at offset ${offset} (${state})`, { path, offset });
}
