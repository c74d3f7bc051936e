// What the tiered tests against the cluster share: its address and keys (from the global
// setup), a bucket of their own, and stores with short timeouts so outages show quickly.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RemoteStore, type S3RemoteStoreOptions } from '@keel/remote-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';

function env(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  const { KEEL_S3_ENDPOINT, KEEL_S3_REGION, KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY } = process.env;
  if (!KEEL_S3_ENDPOINT || !KEEL_S3_REGION || !KEEL_S3_ACCESS_KEY_ID || !KEEL_S3_SECRET_ACCESS_KEY) {
    throw new Error('KEEL_S3_* are not set: these tests run under scripts/ceph/global-setup.mjs');
  }
  return { endpoint: KEEL_S3_ENDPOINT, region: KEEL_S3_REGION, credentials: { accessKeyId: KEEL_S3_ACCESS_KEY_ID, secretAccessKey: KEEL_S3_SECRET_ACCESS_KEY } };
}

export function cephClient(): S3Client {
  const { endpoint, region, credentials } = env();
  return new S3Client({ endpoint, region, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

export async function createBucket(client: S3Client): Promise<string> {
  const bucket = `keel-tiered-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** A store on `bucket`, through the cluster's gateway or `endpoint` (a test's own gateway). */
export function openCephStore(bucket: string, options: Partial<S3RemoteStoreOptions> = {}, endpoint?: string): S3RemoteStore {
  const cluster = env();
  return new S3RemoteStore({
    bucket, endpoint: endpoint ?? cluster.endpoint, region: cluster.region, credentials: cluster.credentials, forcePathStyle: true,
    connectTimeoutMs: 500, requestTimeoutMs: 2_000, retryTimeoutMs: 1_000,
    ...options,
  });
}

/** A bucket of the calling test file's own, made before its tests, and a raw client for what a RemoteStore will not do. */
export function useBucket(): { client: () => S3Client; bucket: () => string } {
  let client: S3Client | undefined;
  let bucket: string | undefined;
  beforeAll(async () => {
    client = cephClient();
    bucket = await createBucket(client);
  });
  afterAll(() => client?.destroy());
  return { client: () => client as S3Client, bucket: () => bucket as string };
}
