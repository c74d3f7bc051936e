// What every test against the cluster needs: its address and keys (from the global setup),
// a bucket of its own, a store on it, and a plain S3 client for what a RemoteStore will
// not do (create buckets, plant damaged objects).
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';

import { S3RemoteStore, WorkerS3RemoteStore, type S3RemoteStoreOptions } from '../../src/index.js';

export interface Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function clusterEndpoint(): Endpoint {
  const { KEEL_S3_ENDPOINT, KEEL_S3_REGION, KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY } = process.env;
  if (!KEEL_S3_ENDPOINT || !KEEL_S3_REGION || !KEEL_S3_ACCESS_KEY_ID || !KEEL_S3_SECRET_ACCESS_KEY) {
    throw new Error('KEEL_S3_* are not set: these tests run under scripts/ceph/global-setup.mjs');
  }
  return { endpoint: KEEL_S3_ENDPOINT, region: KEEL_S3_REGION, accessKeyId: KEEL_S3_ACCESS_KEY_ID, secretAccessKey: KEEL_S3_SECRET_ACCESS_KEY };
}

export function rawClient(endpoint = clusterEndpoint()): S3Client {
  return new S3Client({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    forcePathStyle: true,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A new, empty bucket with a name no other test uses. */
export async function createBucket(client: S3Client): Promise<string> {
  const bucket = `keel-test-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Where a store's requests run: S3RemoteStore on the calling thread, WorkerS3RemoteStore on its own. */
export const STORE_KINDS = [
  { thread: 'the calling thread', Store: S3RemoteStore },
  { thread: 'a worker thread', Store: WorkerS3RemoteStore },
] as const;

export type AnyS3Store = S3RemoteStore | WorkerS3RemoteStore;

export function openStore<S extends AnyS3Store = S3RemoteStore>(
  bucket: string,
  options: Partial<S3RemoteStoreOptions> = {},
  endpoint = clusterEndpoint(),
  Store: new (options: S3RemoteStoreOptions) => S = S3RemoteStore as unknown as new (options: S3RemoteStoreOptions) => S,
): S {
  return new Store({
    bucket,
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    forcePathStyle: true,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    ...options,
  });
}
