import type { Io, IoFile } from './io.js';

/**
 * `io` with its files' `copyRangeFrom` hidden, so that whatever copies files (a backup)
 * reads and writes every byte through memory: for a file system whose copy offload
 * misbehaves, or to measure what the kernel's copy saves. Everything else is `io` itself.
 */
export function withoutKernelCopies(io: Io): Io {
  return new Proxy(io, {
    get(target, key) {
      if (key !== 'open') return bound(target, key);
      return (path: string, options?: Parameters<Io['open']>[1]): IoFile => hideCopies(target.open(path, options));
    },
  });
}

function hideCopies(file: IoFile): IoFile {
  return new Proxy(file, { get: (target, key) => (key === 'copyRangeFrom' ? undefined : bound(target, key)) });
}

/** The property, with methods bound to the real object: its private fields are not on the proxy. */
function bound(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}
