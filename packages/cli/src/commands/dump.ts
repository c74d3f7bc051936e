import { watch } from 'node:fs';
import { detectStore } from '../detect.js';
import { CommandFailure, EXIT_USAGE, printJson } from '../output.js';
import { openStore, type DumpRange, type DumpRecord } from '../stores.js';
import { encodeBytes, type ValueStyle } from '../values.js';

export interface DumpOptions {
  from?: string;
  to?: string;
  limit?: string;
  follow?: boolean;
  hex?: boolean;
  json?: boolean;
}

/** How long `--follow` waits for a file notification before it looks anyway. */
const FOLLOW_POLL_MS = 1000;

/**
 * `keel dump <path>`: records as JSON Lines (or one JSON document with --json), values
 * as UTF-8 when valid, else base64 (`--hex`: hex). Read-only, so it runs beside a writer;
 * `--follow` (journal, segment-log) reopens when the files change and goes on after the
 * last record it printed.
 */
export async function dump(path: string, options: DumpOptions): Promise<number> {
  const detected = detectStore(path);
  const limit = options.limit === undefined ? undefined : Number(options.limit);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) throw new CommandFailure(`--limit must be a non-negative integer, got ${options.limit}`, EXIT_USAGE);
  if (options.follow === true && detected.backend !== 'journal' && detected.backend !== 'segment-log') {
    throw new CommandFailure(`--follow works for a journal or a segment log, not a ${detected.backend}`, EXIT_USAGE);
  }
  const style: ValueStyle = options.hex === true ? 'hex' : 'auto';
  const collected: unknown[] = [];
  const emit = (record: DumpRecord): void => {
    const line = toJson(record, style);
    if (options.json === true) collected.push(line);
    else process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  let range: DumpRange = { from: options.from, to: options.to, limit };
  for (;;) {
    const store = await openStore(detected.backend, path, { readOnly: true });
    let last: DumpRecord | null = null;
    try {
      for await (const record of store.records(range)) {
        emit(record);
        last = record;
      }
    } finally {
      await store.close();
    }
    if (options.follow !== true) break;
    if (last !== null) range = { ...range, from: String(nextPosition(last)), limit: range.limit === undefined ? undefined : range.limit - 1 };
    if (range.limit === 0) break;
    await changeOf(path);
  }
  if (options.json === true) printJson({ path, backend: detected.backend, records: collected });
  return 0;
}

/** Where to go on after `record`: a journal record's LSN is where the next one starts. */
function nextPosition(record: DumpRecord): number {
  if ('lsn' in record.position) return record.position.lsn as number;
  return (record.position.offset as number) + 1;
}

function toJson(record: DumpRecord, style: ValueStyle): Record<string, unknown> {
  const line: Record<string, unknown> = { ...record.position };
  if (record.timestamp !== undefined) line.timestamp = record.timestamp;
  if (record.key !== undefined) line.key = record.key === null ? null : encodeBytes(record.key, style);
  if (record.headers !== undefined && record.headers.length > 0) line.headers = record.headers.map(([name, value]) => [name, encodeBytes(value, style)]);
  line.value = encodeBytes(record.value, style);
  return line;
}

/** Resolves on the next change under `path` (file notifications), or after a poll interval. */
function changeOf(path: string): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | null = null;
    const done = (): void => {
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(done, FOLLOW_POLL_MS);
    try {
      watcher = watch(path, { persistent: true }, done);
    } catch {
      // No notifications here: the poll interval still wakes us.
    }
  });
}
