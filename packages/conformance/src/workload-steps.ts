import { syncsOnClose } from '@keel/core';
import type { BackendAdapter, KvOperation, LogRecord, ProtocolName } from './adapter.js';
import { KvModel, LogModel, payloadId } from './model.js';
import { crash, recover, tryOpen } from './recovery-check.js';
import { KV_KEYS, type Step } from './scenario.js';
import { durabilityPolicy, type ScenarioState } from './scenario-state.js';
import { DiskFrozen, isThenable } from './scenario-rules.js';
import { checkLatest } from './state-match.js';
import { violation } from './violation.js';

/**
 * Runs one workload step against the open store, keeping the model in step: what was
 * written, and what the store acknowledged durable. After each step (while nothing has
 * failed) a read must show everything written so far.
 */
export async function runStep(run: ScenarioState, step: Step): Promise<void> {
  if (step.type === 'crash') {
    crash(run, step.crash);
    // Holes before later data (torn, filled, reordered writes) may be refused; a plain loss may not.
    const mode = step.crash.data.mode;
    await recover(run, { allowance: 0, refusalAllowed: mode === 'fill' || mode === 'torn' || mode === 'subset' || mode === 'stale' });
    return;
  }
  if (step.type === 'process-crash') {
    await processCrash(run, step.inSync);
    return;
  }
  if (run.store === null) {
    // An injected failure left no store open: try again, as a caller would.
    if (!(await tryOpen(run))) return;
  }
  switch (step.type) {
    case 'write':
      write(run, [step.size], [step.key], [step.remove], false);
      break;
    case 'batch':
      write(run, step.sizes, step.keys, step.removes, true);
      break;
    case 'sync':
      await sync(run);
      break;
    case 'reopen':
      await reopen(run);
      break;
    case 'protocol':
      await runProtocol(run, step.name);
      break;
    case 'retention':
      await retention(run, step.fraction);
      break;
  }
  run.throwAsyncViolations();
  if (run.store === null || run.failed() || run.sessionFailed || run.fs.frozen) return;
  try {
    await checkLatest(run);
  } catch (error) {
    if (!(error instanceof DiskFrozen)) throw error;
  }
}

/**
 * The process dies, the machine does not (optionally inside a sync, after its writes):
 * nothing is lost but what the process held in memory, and nothing becomes durable.
 * What the reopened store shows is settled, acknowledged only as far as it was.
 */
async function processCrash(run: ScenarioState, inSync: boolean): Promise<void> {
  if (inSync && run.store !== null) {
    run.fs.crashAtNextSync();
    await sync(run);
  }
  run.abandonStore();
  run.fs = run.fs.afterProcessCrash();
  await tryOpen(run);
}

/** One write (or batch) of generated records or key-value operations; under every-write its returned promise is tracked as an acknowledgement. */
export function write(run: ScenarioState, sizes: readonly number[], keys: readonly number[], removes: readonly boolean[], batch: boolean): void {
  const failedBefore = run.failed();
  let result: unknown;
  try {
    result = run.model.kind === 'log' ? appendLog(run, run.model, sizes, batch) : applyKv(run, run.model, sizes, keys, removes, batch);
  } catch (error) {
    run.expectFailure(error, batch ? 'batch' : 'write');
    return;
  }
  if (isThenable(result)) run.trackAck(result, run.model.size, failedBefore, 'write');
}

function appendLog(run: ScenarioState, model: LogModel, sizes: readonly number[], batch: boolean): unknown {
  const adapter = run.adapter as Extract<BackendAdapter, { kind: 'log' }>;
  const payloads = sizes.map((size) => model.payload(size));
  // Counted as written before the call: a write that throws may still have reached the disk.
  model.add(payloads);
  if (batch && adapter.appendBatch) return adapter.appendBatch(run.store, payloads);
  let last: unknown;
  for (const payload of payloads) last = adapter.append(run.store, payload);
  return last;
}

function applyKv(run: ScenarioState, model: KvModel, sizes: readonly number[], keys: readonly number[], removes: readonly boolean[], batch: boolean): unknown {
  const adapter = run.adapter as Extract<BackendAdapter, { kind: 'kv' }>;
  const operations: KvOperation[] = sizes.map((size, i) => {
    const key = KV_KEYS[keys[i] ?? 0] as string;
    return removes[i] ? { type: 'del', key } : { type: 'put', key, value: model.value(size) };
  });
  if (batch && adapter.batch) {
    model.add(operations);
    return adapter.batch(run.store, operations);
  }
  let last: unknown;
  for (const operation of operations) {
    model.add([operation]);
    last = operation.type === 'put' ? adapter.put(run.store, operation.key, operation.value) : adapter.delete(run.store, operation.key);
  }
  return last;
}

/** A sync that resolves acknowledges everything written before it was called. */
export async function sync(run: ScenarioState): Promise<void> {
  const failedBefore = run.failed();
  const upTo = run.model.size;
  try {
    await run.adapter.sync(run.store);
  } catch (error) {
    run.expectFailure(error, 'sync');
    return;
  }
  if (failedBefore) violation('sync() resolved after a write or sync had failed: nothing after a failure may claim durability');
  run.model.ack(upTo);
}

/** Close, then open again as a caller would (no crash in between). */
export async function reopen(run: ScenarioState): Promise<void> {
  await close(run);
  await tryOpen(run);
}

/** Closes the store; a close that completes in a clean session acknowledges everything (it ends with a sync). */
export async function close(run: ScenarioState): Promise<void> {
  const store = run.store;
  if (store === null) return;
  const failedBefore = run.failed();
  const upTo = run.model.size;
  run.store = null;
  run.epoch++;
  try {
    await run.adapter.close(store);
  } catch (error) {
    run.expectFailure(error, 'close');
    return;
  }
  // close() ends with a final sync: when it succeeds, everything written is durable
  // (unless something failed before: a poisoned store closes without syncing; and
  // under durability 'none' close never syncs).
  if (!failedBefore && !run.failed() && !run.sessionFailed && syncsOnClose(durabilityPolicy(run.scenario.durability))) run.model.ack(upTo);
}

/** A multi-file protocol (roll, seal, compact, snapshot) the adapter offers; it changes no state a read sees. */
export async function runProtocol(run: ScenarioState, name: ProtocolName): Promise<void> {
  const protocol = run.adapter.protocols?.[name];
  if (protocol === undefined) return;
  try {
    await protocol(run.store);
  } catch (error) {
    run.expectFailure(error, name);
  }
}

/** Retention up to the record at `fraction` of the log: the model stops requiring what is below it. */
export async function retention(run: ScenarioState, fraction: number): Promise<void> {
  const adapter = run.adapter;
  if (adapter.kind !== 'log' || adapter.deleteBefore === undefined || !(run.model instanceof LogModel)) return;
  const records = await readLog(run);
  if (records === null || records.length === 0) return;
  const chosen = records[Math.min(records.length - 1, Math.floor(fraction * records.length))] as LogRecord;
  const index = run.model.records.findIndex((record) => record.id === payloadId(chosen.payload));
  // Asked is enough: a retention that fails part-way may still have dropped segments.
  if (index > run.model.floor) run.model.floor = index;
  try {
    await adapter.deleteBefore(run.store, chosen.position);
  } catch (error) {
    run.expectFailure(error, 'deleteBefore');
  }
}

async function readLog(run: ScenarioState): Promise<LogRecord[] | null> {
  if (run.adapter.kind !== 'log') return null;
  try {
    return await run.adapter.read(run.store);
  } catch (error) {
    run.expectFailure(error, 'read');
    return null;
  }
}
