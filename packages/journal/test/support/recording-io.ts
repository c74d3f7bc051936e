import { ioError, nativeIo, type Io, type IoFile, type IoOpenOptions } from '@keel/core';
import { CLEAN_SHUTDOWN_SUFFIX } from '../../src/format.js';

/** What a RecordingIo saw, per file path. */
export interface IoLog {
  /** End offset of the furthest byte written so far (handed to the OS). */
  writtenThrough: number;
  writes: number;
  datasyncsStarted: number;
  datasyncsFinished: number;
  /** For each finished datasync: how far the file had been written when it began. */
  coveredThrough: number[];
}

export interface RecordingIoOptions {
  /** Fail the n-th datasync (1-based) with EIO. */
  failDatasync?: number;
  /** Fail the n-th write (1-based) with EIO. */
  failWrite?: number;
  /** Called as each datasync begins (after the bytes it covers were written). */
  onDatasyncStart?: (log: IoLog) => void;
  /** Pretend the file system refuses O_DIRECT. */
  refuseDirect?: boolean;
}

/**
 * Wraps the native Io to count writes and datasyncs of the journal's own file and to
 * inject EIO there: the test-side stand-in for the conformance suite's FaultFs. The
 * clean-shutdown record close writes beside the journal passes through unrecorded.
 */
export function recordingIo(options: RecordingIoOptions = {}): { io: Io; log: IoLog } {
  const log: IoLog = { writtenThrough: 0, writes: 0, datasyncsStarted: 0, datasyncsFinished: 0, coveredThrough: [] };
  const io: Io = {
    ...nativeIo,
    open(path: string, openOptions: IoOpenOptions = {}): IoFile {
      if (path.includes(CLEAN_SHUTDOWN_SUFFIX)) return nativeIo.open(path, openOptions);
      const direct = openOptions.direct === true && options.refuseDirect !== true;
      return wrapFile(nativeIo.open(path, { ...openOptions, direct }), log, options, openOptions.direct === true && !direct);
    },
  };
  return { io, log };
}

function wrapFile(file: IoFile, log: IoLog, options: RecordingIoOptions, refused: boolean): IoFile {
  const noteWrite = (bytes: number, position: number): void => {
    log.writes++;
    if (options.failWrite === log.writes) throw ioError('EIO', 'pwrite', file.path);
    log.writtenThrough = Math.max(log.writtenThrough, position + bytes);
  };
  const datasync = async (): Promise<void> => {
    log.datasyncsStarted++;
    if (options.failDatasync === log.datasyncsStarted) throw ioError('EIO', 'fdatasync', file.path);
    const covered = log.writtenThrough;
    options.onDatasyncStart?.(log);
    await file.datasync();
    log.datasyncsFinished++;
    log.coveredThrough.push(covered);
  };
  return {
    path: file.path,
    get isDirect() {
      return file.isDirect;
    },
    get directFallback() {
      return refused ? 'refused by the test' : file.directFallback;
    },
    writeSync(data, position) {
      noteWrite(data.length, position);
      file.writeSync(data, position);
    },
    writevSync(buffers, position) {
      noteWrite(buffers.reduce((sum, buffer) => sum + buffer.length, 0), position);
      file.writevSync(buffers, position);
    },
    async write(data, position) {
      noteWrite(data.length, position);
      await file.write(data, position);
    },
    async writev(buffers, position) {
      noteWrite(buffers.reduce((sum, buffer) => sum + buffer.length, 0), position);
      await file.writev(buffers, position);
    },
    readSync: (into, position) => file.readSync(into, position),
    read: (into, position) => file.read(into, position),
    sizeSync: () => file.sizeSync(),
    setLengthSync: (length) => file.setLengthSync(length),
    datasyncSync: () => file.datasyncSync(),
    datasync,
    fsync: () => file.fsync(),
    preallocateSync: (offset, length) => file.preallocateSync(offset, length),
    adviseSync: (offset, length, advice) => file.adviseSync(offset, length, advice),
    mapSync: (offset, length) => file.mapSync(offset, length),
    closeSync: () => file.closeSync(),
  };
}
