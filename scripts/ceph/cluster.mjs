// A throwaway single-node Ceph with an S3 gateway, for tests that need a real object store:
// one monitor, one OSD on memstore (objects live in the OSD's memory, no disk is prepared),
// and radosgw's beast frontend on 127.0.0.1, all with authentication off, in a temporary
// directory on free ports. `startCluster()` boots it and creates an S3 user;
// `cluster.stop()` kills every daemon and removes the directory.
//
// Teardown does not depend on the caller getting to run it: a small watchdog process
// (watchdog.mjs) holds a pipe from the process that started the cluster and, when that pipe
// closes for any reason (a normal exit, an uncaught error, SIGKILL), kills the daemons and
// removes the directory. Every daemon's pid is kept in `<dir>/run/<name>.keel-pid`, which is
// also how gateways started later (from another process, e.g. a test worker) are found.
//
// Run directly (`node scripts/ceph/cluster.mjs`) it boots a cluster, prints its endpoint and
// keys as environment assignments, and stops it on Ctrl-C.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The commands a cluster needs; all come with Debian's ceph-mon, ceph-osd, radosgw and ceph-common. */
export const CEPH_COMMANDS = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph'];
/** How long a whole boot may take before it is abandoned (it takes seconds when healthy). */
export const CLUSTER_BOOT_TIMEOUT_MS = 120_000;
/** How long a (re)started gateway may take to answer HTTP. */
export const GATEWAY_READY_TIMEOUT_MS = 60_000;
/** How long a killed daemon may take to be gone. */
const DAEMON_EXIT_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 100;
/** The memstore's advertised capacity: objects are kept in the OSD's memory. */
const MEMSTORE_DEVICE_BYTES = 4 * 1024 ** 3;
const REGION = 'us-east-1';
const PID_SUFFIX = '.keel-pid';
const HERE = dirname(fileURLToPath(import.meta.url));
/** Daemons this process started, so that killing one also waits for this process to reap it. */
const children = new Map();

/** Whether this machine can boot a cluster: `{ available: true }` or `{ available: false, reason }`. */
export function cephAvailability() {
  if (process.platform !== 'linux') return { available: false, reason: `Ceph's daemons run on Linux, not ${process.platform}` };
  const missing = CEPH_COMMANDS.filter((command) => findOnPath(command) === undefined);
  if (missing.length > 0) {
    return {
      available: false,
      reason: `${missing.join(', ')} not on PATH (scripts/ceph/install.sh installs Ceph where apt is available)`,
    };
  }
  return { available: true };
}

function findOnPath(command) {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    try {
      accessSync(join(directory, command), constants.X_OK);
      return join(directory, command);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function configText(dir, { fsid, monPort }) {
  // Authentication is off, so the messenger must not insist on its "secure" mode (which
  // needs cephx keys): every connection uses crc mode.
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01
osd objectstore = memstore
memstore device bytes = ${MEMSTORE_DEVICE_BYTES}
osd op num shards = 2
osd op num threads per shard = 1

[mon.a]
mon data = ${dir}/mon.a

[osd.0]
osd data = ${dir}/osd.0

[client]
rgw data = ${dir}/rgw
rgw enable usage log = false
# No metadata cache, so no cache-invalidation notifies: a gateway a test has paused or
# killed would otherwise hold up every other gateway's metadata writes until it times out.
rgw cache enabled = false
# A client that is waiting for a newer OSD map asks for one at every tick (5 s by default).
objecter tick interval = 0.2
`;
}

/** Ports the kernel hands out as free on 127.0.0.1 (released again before they are used). */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function logTail(dir, lines = 15) {
  const logDir = join(dir, 'log');
  if (!existsSync(logDir)) return '';
  return readdirSync(logDir)
    .map((name) => {
      const text = readFileSync(join(logDir, name), 'utf8').trimEnd();
      return text === '' ? '' : `--- ${name}\n${text.split('\n').slice(-lines).join('\n')}`;
    })
    .filter(Boolean)
    .join('\n');
}

/** Runs a Ceph command to completion and returns its stdout; a failure throws with its output. */
function runCommand(dir, command, args, { timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', (error) => reject(new Error(`${command} could not start: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`\`${command} ${args.join(' ')}\` exited with ${code ?? signal}\n${stdout}${stderr}\n${logTail(dir)}`));
    });
  });
}

function pidFile(dir, name) {
  return join(dir, 'run', `${name}${PID_SUFFIX}`);
}

/**
 * Starts a daemon in the foreground of a session and process group of its own (so a Ctrl-C
 * aimed at the test runner does not reach it half-way; the watchdog or stop() ends it), its
 * output appended to `<dir>/log/<name>.out`, its pid recorded for whoever stops the cluster.
 * With `shareSession` it stays in the caller's session instead (see startCluster).
 */
function spawnDaemon(dir, name, command, args, { shareSession = false } = {}) {
  const output = openSync(join(dir, 'log', `${name}.out`), 'a');
  try {
    const child = spawn(command, args, { detached: !shareSession, stdio: ['ignore', output, output] });
    child.unref();
    children.set(child.pid, child);
    child.once('exit', () => children.delete(child.pid));
    writeFileSync(pidFile(dir, name), `${child.pid}\n`);
    return child;
  } finally {
    closeSync(output);
  }
}

/** Whether `pid` is a live (not zombie) process started with `dir` in its arguments. */
function isDaemonOf(dir, pid) {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function readPid(dir, name) {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(dir, name), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to the named daemon if it is still one of this cluster's processes. */
function signalDaemon(dir, name, signal) {
  const pid = readPid(dir, name);
  if (pid === undefined || !isDaemonOf(dir, pid)) return undefined;
  try {
    process.kill(pid, signal);
  } catch {
    return undefined;
  }
  return pid;
}

async function waitUntil(what, deadlineMs, condition) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const result = await condition();
    if (result) return result;
    if (Date.now() >= deadline) throw new Error(`${what} did not happen within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function killDaemon(dir, name) {
  const pid = signalDaemon(dir, name, 'SIGKILL');
  if (pid !== undefined) {
    await waitUntil(`${name} (pid ${pid}) exit`, DAEMON_EXIT_TIMEOUT_MS, () => !isDaemonOf(dir, pid) && !children.has(pid));
  }
  rmSync(pidFile(dir, name), { force: true });
}

function daemonNames(dir) {
  const runDir = join(dir, 'run');
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir).filter((entry) => entry.endsWith(PID_SUFFIX)).map((entry) => entry.slice(0, -PID_SUFFIX.length));
}

/**
 * Kills every daemon of the cluster in `dir` and removes the directory. Synchronous so that
 * it can run from an exit handler; the daemons keep nothing worth shutting down cleanly.
 */
export function destroyClusterSync(dir) {
  for (const name of daemonNames(dir)) signalDaemon(dir, name, 'SIGKILL');
  // A killed OSD can take a moment to release its memory; the directory can go at once.
  rmSync(dir, { recursive: true, force: true });
}

async function destroyCluster(dir) {
  // Gateways first: they would otherwise log reconnect attempts while the rest goes away.
  const names = daemonNames(dir).sort((a, b) => Number(b.startsWith('client.')) - Number(a.startsWith('client.')));
  for (const name of names) await killDaemon(dir, name);
  rmSync(dir, { recursive: true, force: true });
}

function startWatchdog(dir) {
  const child = spawn(process.execPath, [join(HERE, 'watchdog.mjs'), dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  child.stdin.unref?.();
  // The pipe closing is the watchdog's signal; nothing is ever written to it.
  child.stdin.on('error', () => {});
  return child;
}

async function gatewayAnswers(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status < 500;
  } catch {
    return false;
  }
}

/**
 * A radosgw of the cluster in `dir` on its own port, started and answering HTTP when this
 * resolves. Several gateways can serve one cluster (they share its pools), so a test that
 * takes its gateway away (`kill`, `pause`) disturbs nobody else. The returned handle can be
 * used from any process; `cluster.stop()` and the watchdog end it in any case.
 */
export async function startGateway({ dir = process.env.KEEL_CEPH_DIR, port, shareSession = false } = {}) {
  if (dir === undefined) throw new Error('startGateway needs the cluster directory (KEEL_CEPH_DIR)');
  const [gatewayPort] = port === undefined ? await freePorts(1) : [port];
  const name = `client.rgw.${gatewayPort}`;
  const gateway = {
    name,
    port: gatewayPort,
    endpoint: `http://127.0.0.1:${gatewayPort}`,
    /** Starts (again) on the same port and waits until it answers. */
    async start() {
      await killDaemon(dir, name);
      const args = ['-c', join(dir, 'ceph.conf'), '-n', name, '-f', '--rgw-frontends', `beast endpoint=127.0.0.1:${gatewayPort}`];
      const child = spawnDaemon(dir, name, 'radosgw', args, { shareSession });
      let exited = false;
      child.once('exit', () => { exited = true; });
      await waitUntil(`radosgw on port ${gatewayPort} answering`, GATEWAY_READY_TIMEOUT_MS, async () => {
        if (exited) throw new Error(`radosgw ${name} exited while starting\n${logTail(dir)}`);
        return gatewayAnswers(gatewayPort);
      }).catch((error) => {
        throw new Error(`${error.message}\n${logTail(dir)}`);
      });
    },
    /** Kills the gateway outright (connections are refused until `start()`). */
    kill: () => killDaemon(dir, name),
    /** Freezes the gateway (SIGSTOP): connections are accepted, nothing is ever answered. */
    pause() {
      if (signalDaemon(dir, name, 'SIGSTOP') === undefined) throw new Error(`${name} is not running`);
    },
    resume() {
      if (signalDaemon(dir, name, 'SIGCONT') === undefined) throw new Error(`${name} is not running`);
    },
  };
  await gateway.start();
  return gateway;
}

/** The environment a test reads the cluster from (set by global-setup.mjs). */
export function clusterEnv(cluster) {
  return {
    KEEL_S3_ENDPOINT: cluster.endpoint,
    KEEL_S3_REGION: cluster.region,
    KEEL_S3_ACCESS_KEY_ID: cluster.accessKeyId,
    KEEL_S3_SECRET_ACCESS_KEY: cluster.secretAccessKey,
    KEEL_CEPH_DIR: cluster.dir,
  };
}

async function bootMonitor(dir, conf, { fsid, monPort, shareSession }) {
  const monmap = join(dir, 'monmap');
  await runCommand(dir, 'monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, monmap]);
  await runCommand(dir, 'ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', monmap]);
  spawnDaemon(dir, 'mon.a', 'ceph-mon', ['-c', conf, '-i', 'a', '-f'], { shareSession });
}

async function bootOsd(dir, conf, { shareSession }) {
  const uuid = randomUUID();
  // `osd new` waits for the monitor to form its (single-member) quorum.
  const id = (await runCommand(dir, 'ceph', ['-c', conf, '--connect-timeout', '60', 'osd', 'new', uuid])).trim();
  if (id !== '0') throw new Error(`the monitor numbered the only OSD ${id}, not 0`);
  await runCommand(dir, 'ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', uuid]);
  spawnDaemon(dir, 'osd.0', 'ceph-osd', ['-c', conf, '-i', '0', '-f'], { shareSession });
}

async function createUser(dir, conf) {
  const accessKeyId = `KEEL${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString('hex');
  await runCommand(dir, 'radosgw-admin', [
    '-c', conf, 'user', 'create', '--uid', 'keel-test', '--display-name', 'keel tests',
    '--access-key', accessKeyId, '--secret', secretAccessKey,
  ]);
  return { accessKeyId, secretAccessKey };
}

/**
 * Boots a cluster and resolves with `{ dir, endpoint, region, accessKeyId, secretAccessKey,
 * bootMs, stop() }` once its S3 gateway answers and the user exists. A failed boot removes
 * everything it made before rejecting; so do `stop()`, the process's exit and the watchdog.
 *
 * `shareSession` (for benchmarks) keeps the daemons in the caller's session. Where the
 * kernel schedules by autogroup (one scheduling group per session, the default on many
 * kernels), a daemon in a session of its own gets a whole group's share of the CPU against
 * the caller's, whatever its threads' priorities; in the caller's session, lowering its
 * threads' priority ranks them below the caller's threads, while the caller's group as a
 * whole keeps its share against everything else on the machine.
 */
export async function startCluster({ shareSession = false } = {}) {
  const availability = cephAvailability();
  if (!availability.available) throw new Error(`Ceph cannot run here: ${availability.reason}`);
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'keel-ceph-'));
  for (const sub of ['run', 'log', 'mon.a', 'osd.0', 'rgw']) mkdirSync(join(dir, sub));
  const watchdog = startWatchdog(dir);
  const onExit = () => destroyClusterSync(dir);
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    await destroyCluster(dir);
    watchdog.stdin.end();
  };
  let timer;
  const boot = async () => {
    const conf = join(dir, 'ceph.conf');
    const [monPort, gatewayPort] = await freePorts(2);
    const fsid = randomUUID();
    writeFileSync(conf, configText(dir, { fsid, monPort }));
    const stages = {};
    const stage = async (name, action) => {
      const begun = performance.now();
      const result = await action();
      stages[name] = Math.round(performance.now() - begun);
      return result;
    };
    await stage('monitor', () => bootMonitor(dir, conf, { fsid, monPort, shareSession }));
    // The gateway starts beside the OSD's boot: it creates its pools and waits for them.
    const [, gateway] = await stage('osdAndGateway', () => Promise.all([bootOsd(dir, conf, { shareSession }), startGateway({ dir, port: gatewayPort, shareSession })]));
    const credentials = await stage('user', () => createUser(dir, conf));
    return { dir, endpoint: gateway.endpoint, region: REGION, ...credentials, stages };
  };
  try {
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the cluster did not boot within ${CLUSTER_BOOT_TIMEOUT_MS} ms\n${logTail(dir)}`)), CLUSTER_BOOT_TIMEOUT_MS);
    });
    const cluster = await Promise.race([boot(), timeout]);
    return { ...cluster, bootMs: Math.round(performance.now() - started), stop };
  } catch (error) {
    await stop().catch(() => destroyClusterSync(dir));
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cluster = await startCluster();
  for (const [key, value] of Object.entries(clusterEnv(cluster))) console.log(`${key}=${value}`);
  console.log(`# booted in ${(cluster.bootMs / 1000).toFixed(1)} s; Ctrl-C stops it`);
  const stopOnSignal = () => {
    cluster.stop().then(() => process.exit(0), (error) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  setInterval(() => {}, 1 << 30);
}
