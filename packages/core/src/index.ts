/**
 * @keel/core's public API, named one by one: what a backend or an application may rely on.
 * A module's other exports stay internal to core.
 */
export {
  KEEL_ERROR_CODES, KeelError, badArgument, fromSystemError, ioError, isKeelError, type KeelErrorCode,
  type KeelErrorDetails,
} from './errors.js';
export type { Advice, CopiedBytes, Io, IoFile, IoOpenOptions, IoStat, SyncThreadOptions } from './io.js';
export { SYNC_THREAD_SPIN_MICROSECONDS_MAX } from './io.js';
export { withoutKernelCopies } from './without-kernel-copies.js';
export { nativeIo } from './native-io.js';
// Pure computation over memory (no file access), so it may reach a backend: wal-kv's index.
export { KeyTable, verifiedValueRun } from '@keel/native';
// What first touching fresh memory costs: the floor under loading a table (for benchmarks).
export { faultInFreshMemory } from '@keel/native';
export { crc32, crc32c, verifiedValueCopy } from './crc.js';
export { crc32Reference, crc32cReference } from './crc-reference.js';
export {
  FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_PAYLOAD_BYTES_MAX, FRAME_TRAILER_BYTES,
  FSYS_FRAME_FORMAT, checkFrameAt, decodeFrame, defineFrameFormat, encodeFrame, encodeFrameInto,
  encodeFrames, encodeFramesInto, frameBytes, sealFrameRun, writeFrameHeader, type FrameCheck,
  type FrameFormat, type TailState,
} from './frame.js';
export {
  FrameScanner, SCAN_CHUNK_BYTES_DEFAULT, framesEndsCapacity, validateFrameRun, type FrameRunStop,
  type FrameScannerOptions, type FrameSource, type ScannedFrame,
} from './frame-scanner.js';
export { CHUNK_READ_BYTES_DEFAULT, FrameChunkReader, type AsyncFrameSource, type FrameChunk } from './frame-chunk-reader.js';
export {
  FRAME_SEARCH_CHECK_BYTES_MIN, FRAME_SEARCH_CHECK_FACTOR, findNextValidFrame, searchNextValidFrame,
  type FrameSearch,
} from './frame-search.js';
export {
  DURABILITY_DEFAULT, DURABILITY_INTERVAL_MS_MIN, normalizeDurability, syncsOnClose,
  type DurabilityModeName, type DurabilityOption, type DurabilityPolicy,
} from './durability.js';
export { GroupCommit, type GroupCommitTarget } from './group-commit.js';
export { DurabilityDriver } from './durability-driver.js';
export {
  RECOVERY_POLICY_DEFAULT, cleanReport, isRepair, normalizeRecoveryPolicy, recoverFrameLog,
  type RecoverFrameLogOptions, type RecoveryAction, type RecoveryPolicy, type RecoveryReport,
} from './recovery.js';
export { SAVING_SUFFIX, saveAndTruncateTail, savedTailPath } from './saved-tail.js';
export { joinPath, parentDir } from './paths.js';
export { Lifecycle } from './lifecycle.js';
export { throwIfAborted } from './abort.js';
export { startsAsOurs } from './torn-write.js';
export {
  STORE_ID_BYTES, STORE_IDENTITY_FORMAT_VERSION, StoreIdentity, sameStoreId, type StoreIdentityCheck,
} from './store-identity.js';
export { VERIFY_LEVEL_DEFAULT, normalizeVerifyLevel, type VerifyLevel } from './verify-level.js';
export {
  POSITION_MAX, assertArray, assertBytes, assertMaxBytes, assertPath, assertPayloads, assertPosition,
  describeType, normalizeIo, normalizeReadOnly,
} from './validate.js';
export { DIRECT_IO_ALIGNMENT_BYTES, allocAlignedBuffer } from './aligned.js';
export { PAGE_BYTES, PLACED_READ_BYTES_MIN, allocReadBuffer, allocReadMemory, pageOffsetOf, pageOffsetOfView, placedBytes, placedIndex, placedView } from './read-placement.js';
export { InterceptedFile, InterceptedIo, type IoMutation } from './intercepted-io.js';
export { STORE_LOCK_FILE_NAME, lockStoreDirectory } from './store-lock.js';
export { createDirectoryDurably } from './durable-directory.js';
export { GuardedIo } from './guarded-io.js';
export { Store, type BackupPlan, type StoreSetup, type StoreStats } from './store.js';
export { BACKUP_PARTIAL_SUFFIX, assertBackupOpensCleanly, copyStoreFiles, type BackupOptions, type BackupProgress, type BackupReport, type BackupSource } from './backup.js';
export { guardIo, openStoreDirectory, storeFileNames, type OpenStoreDirectoryOptions, type StoreDirectory } from './store-directory.js';
export { OverlayIo } from './overlay-io.js';
export { waitForFileChange } from './file-change.js';
export { removeIfPresent, removeIfPresentAsync } from './remove-quietly.js';
export {
  renameDurably, writeFileDurably, writeFileDurablySync, writeNewFile, writeNewFileSync,
  type DurableWriteOptions, type FileContents,
} from './durable-file.js';
export { UINT64_NUMBER_MAX, getSafeUint64, readUint64, writeUint64 } from './uint64.js';
export {
  REMOTE_KEY_BYTES_MAX, REMOTE_LIST_LIMIT_MAX, REMOTE_OBJECT_BYTES_MAX, assertRemoteKey, assertRemotePrefix,
  assertRemoteRange, hex32, listRemoteObjects, remoteChecksum, verifyRemoteBytes, type RemoteCallOptions,
  type RemoteListEntry, type RemoteListOptions, type RemoteListPage, type RemoteObject, type RemotePutOptions, type RemoteStore,
} from './remote-store.js';
