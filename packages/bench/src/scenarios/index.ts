import type { Scenario } from '../types.js';
import { JOURNAL_APPEND_COST_SCENARIOS } from './journal-append-cost.js';
import { JOURNAL_BACKUP_SCENARIOS } from './journal-backup.js';
import { JOURNAL_LATENCY_SCENARIOS } from './journal-latency.js';
import { JOURNAL_READ_SCENARIOS } from './journal-read.js';
import { JOURNAL_WRITE_SCENARIOS } from './journal.js';
import { LOG_FILE_SPACE_SCENARIOS } from './log-file-space.js';
import { PAYLOAD_STORE_SCENARIOS } from './payload-store.js';
import { SEGMENT_LOG_SCENARIOS } from './segment-log.js';
import { SEGMENT_LOG_TIERED_SCENARIOS } from './segment-log-tiered.js';
import { WAL_KV_SCENARIOS } from './wal-kv.js';

/** Every scenario, in the order a full run takes them. */
export const SCENARIOS: readonly Scenario[] = [...JOURNAL_WRITE_SCENARIOS, ...JOURNAL_LATENCY_SCENARIOS, ...JOURNAL_APPEND_COST_SCENARIOS, ...JOURNAL_READ_SCENARIOS, ...JOURNAL_BACKUP_SCENARIOS, ...SEGMENT_LOG_SCENARIOS, ...LOG_FILE_SPACE_SCENARIOS, ...SEGMENT_LOG_TIERED_SCENARIOS, ...PAYLOAD_STORE_SCENARIOS, ...WAL_KV_SCENARIOS];
