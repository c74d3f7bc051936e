// What a new user does first with each backend: open, write, make it durable, close,
// reopen, read it back, look at the recovery report. Plain CommonJS so that the same
// checks run from ESM, from require() and inside a worker thread.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const RECORDS = ['alpha', 'beta', 'gamma'].map((word) => Buffer.from(word));
const EXPLICIT = { durability: { mode: 'explicit' } };

function assertCleanRecovery(report, records) {
  assert.equal(report.tailState, 'clean-end', `recovery tail state: ${JSON.stringify(report)}`);
  assert.equal(report.discardedBytes, 0);
  if (records !== undefined) assert.equal(report.records, records);
}

const smokes = {
  async journal({ Journal }, dir) {
    const file = path.join(dir, 'smoke.wal');
    const writer = await Journal.open(file, EXPLICIT);
    writer.appendBatch(RECORDS);
    await writer.sync();
    await writer.close();
    const reader = await Journal.open(file, EXPLICIT);
    assertCleanRecovery(reader.recovery, RECORDS.length);
    const payloads = [...reader.records({ from: 0 })].map(({ payload }) => Buffer.from(payload));
    await reader.close();
    assert.deepEqual(payloads, RECORDS);
  },
  async 'segment-log'({ SegmentLog }, dir) {
    const writer = await SegmentLog.open(path.join(dir, 'log'), EXPLICIT);
    const first = writer.appendBatch(RECORDS.map((value) => ({ value })));
    await writer.sync();
    await writer.close();
    const reader = await SegmentLog.open(path.join(dir, 'log'), EXPLICIT);
    assertCleanRecovery(reader.recovery);
    const values = reader.read(first, { maxRecords: 10 }).map(({ value }) => Buffer.from(value));
    await reader.close();
    assert.deepEqual(values, RECORDS);
  },
  async 'payload-store'({ PayloadStore, PayloadRef }, dir) {
    const writer = await PayloadStore.open(path.join(dir, 'payloads'), EXPLICIT);
    const refs = writer.appendBatch(RECORDS).map((ref) => PayloadRef.encode(ref));
    await writer.sync();
    await writer.close();
    const reader = await PayloadStore.open(path.join(dir, 'payloads'), EXPLICIT);
    assertCleanRecovery(reader.recovery);
    const payloads = refs.map((stored) => Buffer.from(reader.read(PayloadRef.decode(stored))));
    await reader.close();
    assert.deepEqual(payloads, RECORDS);
  },
  async 'wal-kv'({ WalKv }, dir) {
    const writer = await WalKv.open(path.join(dir, 'kv'), { ...EXPLICIT, valueEncoding: 'utf8' });
    writer.putBatch(RECORDS.map((value, index) => [`key:${index}`, value.toString()]));
    await writer.sync();
    await writer.close();
    const reader = await WalKv.open(path.join(dir, 'kv'), { ...EXPLICIT, valueEncoding: 'utf8' });
    assertCleanRecovery(reader.recovery);
    const values = RECORDS.map((_, index) => reader.get(`key:${index}`));
    await reader.close();
    assert.deepEqual(values, RECORDS.map((value) => value.toString()));
  },
};

module.exports = async function smoke(backend, module, dir) {
  const run = smokes[backend];
  if (run === undefined) throw new Error(`no smoke test for ${backend}`);
  fs.mkdirSync(dir, { recursive: true });
  await run(module, dir);
};
