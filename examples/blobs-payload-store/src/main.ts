// A blob store on @keel/payload-store: documents go into segments, the refs into your own
// index (a Map here); compaction drops the documents you deleted and tells you where the
// live ones moved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PayloadStore, type PayloadRef } from '@keel/payload-store';

const dir = mkdtempSync(join(tmpdir(), 'keel-blobs-'));
const store = await PayloadStore.open(dir, { segmentBytes: 1024 * 1024 });
const index = new Map<string, PayloadRef>();

for (let i = 0; i < 200; i++) index.set(`doc-${i}`, store.append(new Uint8Array(16 * 1024).fill(i % 251)));
await store.sync();
// Delete every other document from the index: its bytes become garbage.
for (let i = 0; i < 200; i += 2) index.delete(`doc-${i}`);

const before = store.diskUsage();
const plan = await store.compact([...index.values()], { seal: true });
for (const [name, ref] of index) index.set(name, plan.resolve(ref));
await plan.commit();
const after = store.diskUsage();

let intact = 0;
for (const [name, ref] of index) if (store.read(ref)[0] === Number(name.slice(4)) % 251) intact++;
await store.close();
rmSync(dir, { recursive: true, force: true });

console.log(`compaction: ${before} → ${after} bytes on disk; ${intact} of ${index.size} live documents read back intact at their new refs`);
if (intact !== 100 || after >= before) process.exit(1);
