// A reader on "another machine": given only a bucket and a prefix, it opens the offloaded
// log from the store and prints one JSON line: its range, how many records it read, and
// the offsets whose value did not follow from the offset.
import { S3RemoteStore } from '@keel/remote-s3';

import { RemoteSegmentLog } from '../../src/index.js';
import { valueFor } from './record-for.js';

const [bucket, prefix] = process.argv.slice(2);
if (bucket === undefined || prefix === undefined) throw new Error('usage: remote-reader-child <bucket> <prefix>');
const { KEEL_S3_ENDPOINT, KEEL_S3_REGION, KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY } = process.env;
await using store = new S3RemoteStore({
  bucket, endpoint: KEEL_S3_ENDPOINT, region: KEEL_S3_REGION, forcePathStyle: true,
  credentials: { accessKeyId: KEEL_S3_ACCESS_KEY_ID ?? '', secretAccessKey: KEEL_S3_SECRET_ACCESS_KEY ?? '' },
});
await using log = await RemoteSegmentLog.open({ remote: store, prefix });
let records = 0;
const wrong: number[] = [];
for await (const record of log.stream()) {
  if (record.offset !== log.startOffset + records || !Buffer.from(record.value!).equals(valueFor(record.offset))) wrong.push(record.offset);
  records++;
}
process.stdout.write(`${JSON.stringify({ startOffset: log.startOffset, nextOffset: log.nextOffset, records, wrong })}\n`);
