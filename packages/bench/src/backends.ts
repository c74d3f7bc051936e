/**
 * The keel backends as the bench uses them: their public package entry points and their
 * real types, so a change to a backend's API is a type error here, not a drifted copy.
 * A backend that cannot be loaded turns its scenarios into "skipped" lines, not a failed
 * run.
 */
import type { Journal } from '@keel/journal';
import type { PayloadRef, PayloadStore } from '@keel/payload-store';
import type { SegmentLog } from '@keel/segment-log';
import type { WalKv } from '@keel/wal-kv';

export type { Journal, PayloadRef, PayloadStore, SegmentLog };
/** The bench stores binary values. */
export type WalKvBinary = WalKv<Uint8Array>;
export type { WalKvBinary as WalKv };

const LOADERS = {
  journal: () => import('@keel/journal'),
  'segment-log': () => import('@keel/segment-log'),
  'payload-store': () => import('@keel/payload-store'),
  'wal-kv': () => import('@keel/wal-kv'),
};

type BackendName = keyof typeof LOADERS;

/** Loads `@keel/<name>` through its package entry point. */
export function loadBackend<Name extends BackendName>(name: Name): ReturnType<(typeof LOADERS)[Name]> {
  return LOADERS[name]() as ReturnType<(typeof LOADERS)[Name]>;
}
