// A vitest globalSetup that boots a throwaway Ceph cluster for the run and tells the tests
// where it is through the environment (KEEL_S3_ENDPOINT, KEEL_S3_REGION,
// KEEL_S3_ACCESS_KEY_ID, KEEL_S3_SECRET_ACCESS_KEY, and KEEL_CEPH_DIR for startGateway).
// The cluster is stopped when the run ends, however it ends (see cluster.mjs).
// Use it through cephTests() in vitest-config.mjs, which decides whether it runs at all.
import { cephAvailability, clusterEnv, startCluster } from './cluster.mjs';

export default async function setup() {
  const availability = cephAvailability();
  if (!availability.available) {
    throw new Error(`the tiered-storage tests must run under CI, and cannot: ${availability.reason}`);
  }
  const cluster = await startCluster();
  Object.assign(process.env, clusterEnv(cluster));
  const stages = Object.entries(cluster.stages).map(([stage, ms]) => `${stage} ${(ms / 1000).toFixed(1)} s`).join(', ');
  console.log(`ceph: one-node cluster with an S3 gateway at ${cluster.endpoint}, up in ${(cluster.bootMs / 1000).toFixed(1)} s (${stages})`);
  return () => cluster.stop();
}
