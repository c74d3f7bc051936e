import { runFileDamage, runKillTest } from '@keel/conformance';
import { expect, it } from 'vitest';
import { payloadStoreAdapter } from './conformance-adapter.js';

it('real files: refuses or reports every truncation, zeroed tail and bit flip of a small store', async () => {
  const summary = await runFileDamage(payloadStoreAdapter);
  expect(summary.opened + summary.refused).toBe(summary.cases);
});

it('real files: a SIGKILLed writer loses nothing it acknowledged', async () => {
  const result = await runKillTest(payloadStoreAdapter, { adapterModule: new URL('./conformance-adapter.ts', import.meta.url).href, exportName: 'payloadStoreAdapter' });
  expect(result.acknowledged).toBeGreaterThan(0);
});
