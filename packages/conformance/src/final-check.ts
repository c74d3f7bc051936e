import { crash, recover } from './recovery-check.js';
import type { ScenarioState } from './scenario-state.js';
import { matchState } from './state-match.js';
import { violation } from './violation.js';
import { close, sync, write } from './workload-steps.js';

/**
 * After the fault (invariant 4): recovery is idempotent — a second open discards nothing
 * and finds the same state — and the store accepts new writes that are themselves durable
 * through a further crash.
 */
export async function checkIdempotentAndWritable(run: ScenarioState): Promise<void> {
  const expected = run.model.size;
  await close(run);
  await run.open('truncate-tail');
  const report = run.adapter.recovery(run.store);
  if (report.discardedBytes !== 0) violation(`a second open discarded ${report.discardedBytes} more bytes: recovery is not idempotent`);
  const kept = await matchState(run, 0);
  if (kept !== expected) violation(`a second open found ${kept} of ${expected} operations: recovery is not idempotent`);
  for (let i = 0; i < 3; i++) write(run, [4 + 9 * i], [i], [false], false);
  await sync(run);
  write(run, [16], [3], [false], false);
  crash(run, { seed: expected, data: { mode: 'byte-prefix' }, entries: 'keep-all' });
  await recover(run, { allowance: 0, refusalAllowed: false });
}
