// A cache index on @keel/wal-kv: sessions by id, updated in atomic batches, listed by
// prefix in key order, and back after a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalKv } from '@keel/wal-kv';

interface Session {
  user: string;
  expires: number;
}

const dir = mkdtempSync(join(tmpdir(), 'keel-cache-'));
const kv = await WalKv.open<Session>(dir, { valueEncoding: 'json' });
for (let i = 0; i < 1000; i++) kv.put(`session:${String(i).padStart(4, '0')}`, { user: `user-${i % 50}`, expires: 1_800_000_000 + i });
// An atomic batch: expire ten sessions and move one, all or nothing.
kv.batch([...Array.from({ length: 10 }, (_, i) => ({ type: 'del' as const, key: `session:${String(i).padStart(4, '0')}` })), { type: 'put', key: 'session:9999', value: { user: 'user-1', expires: 1_900_000_000 } }]);
await kv.sync();
await kv.close();

const reopened = await WalKv.open<Session>(dir, { valueEncoding: 'json' });
const first = [...reopened.keys({ prefix: 'session:00' })].slice(0, 3);
const size = reopened.size;
const moved = reopened.get('session:9999');
await reopened.close();
rmSync(dir, { recursive: true, force: true });

console.log(`after a restart: ${size} sessions; the first by key: ${first.join(', ')}; session:9999 belongs to ${moved?.user}`);
if (size !== 991 || first[0] !== 'session:0010' || moved?.user !== 'user-1') process.exit(1);
