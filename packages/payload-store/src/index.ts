export { PayloadStore, type CompactOptions, type PayloadStoreStats, type SealHandle } from './payload-store.js';
export { PayloadRef, PAYLOAD_REF_ENCODED_BYTES } from './payload-ref.js';
export { CompactionPlan, type CompactionState } from './compaction-plan.js';
export type { PayloadStoreOptions, VerifyLevel } from './options.js';
export type { ScannedPayload } from './scan.js';
export type { SegmentInfo } from './segment.js';
export {
  PAYLOAD_BYTES_MAX,
  SEGMENT_BYTES_DEFAULT,
  SEGMENT_BYTES_MAX,
  SEGMENT_BYTES_MIN,
  SEGMENT_HEADER_BYTES,
  type SegmentKind,
} from './format.js';
