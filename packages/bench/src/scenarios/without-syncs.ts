import type { Io, IoFile } from '@keel/core';

/**
 * `io` whose files' fdatasync does nothing (the async one resolves at once): a keel store
 * over it costs what keel itself costs per durable append — framing, the write, the
 * group commit's promises — with the disk and the threadpool hop taken out.
 */
export function withoutSyncs(io: Io): Io {
  return {
    ...io,
    open(path, options): IoFile {
      const file = io.open(path, options);
      return new Proxy(file, {
        get(target, key) {
          if (key === 'datasync') return () => Promise.resolve();
          if (key === 'datasyncSync') return () => undefined;
          // Without the joined write + sync, a caller writes and then calls the no-op above.
          if (key === 'writeDatasyncSync') return undefined;
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
    },
  };
}
