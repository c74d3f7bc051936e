/**
 * The writer the SIGKILL test kills: opens a backend through its conformance adapter on
 * real files and writes forever, printing the last id of every batch once sync() has
 * acknowledged it. Arguments: adapter module URL, export name, store dir, first id.
 */
import { nativeIo } from '@keel/core';
import type { BackendAdapter } from '../adapter.js';
import { makePayload } from '../model.js';
import { KILL_BATCH_RECORDS, KILL_KEYS, KILL_PROTOCOL_EVERY_SYNCS, killRecordBytes } from './kill-workload.js';

const [moduleUrl, exportName, dir, firstText] = process.argv.slice(2);
const adapter = (await import(moduleUrl as string))[exportName as string] as BackendAdapter;
const store = await adapter.open(nativeIo, dir as string, { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
const protocol = adapter.protocols?.roll ?? adapter.protocols?.seal ?? adapter.protocols?.snapshot;
let id = Number(firstText);
for (let syncs = 1; ; syncs++) {
  for (let i = 0; i < KILL_BATCH_RECORDS; i++, id++) {
    const payload = makePayload(id, killRecordBytes(id));
    if (adapter.kind === 'log') adapter.append(store, payload);
    else adapter.put(store, `k${id % KILL_KEYS}`, payload);
  }
  await adapter.sync(store);
  process.stdout.write(`${id - 1}\n`);
  if (protocol && syncs % KILL_PROTOCOL_EVERY_SYNCS === 0) await protocol(store);
}
