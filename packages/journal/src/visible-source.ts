import type { FrameSource, IoFile } from '@keel/core';
import type { JournalWriter } from './writer.js';

/**
 * The journal as readers see it: bytes below the writer's hand-off point come from the
 * file, bytes above it from the log buffer, so a read never has to write anything (and
 * so never fails or poisons because of a write). The split is decided at every read;
 * both places hold the same bytes where they overlap, and bytes below the next LSN
 * never change, so a flush between two reads is harmless.
 */
export function visibleSource(file: IoFile, writer: JournalWriter, to: number): FrameSource {
  return {
    sizeSync: () => to,
    readSync(into: Uint8Array, position: number): number {
      const handed = writer.handedThrough;
      let done = 0;
      if (position < handed) {
        const fromFile = Math.min(into.length, handed - position);
        done = file.readSync(into.subarray(0, fromFile), position);
        if (done < fromFile) return done;
      }
      if (done < into.length && position + done < to) {
        const wanted = Math.min(into.length, to - position);
        done += writer.readPending(into.subarray(done, wanted), position + done);
      }
      return done;
    },
  };
}
