// Removes a test cluster once the process that started it is gone. cluster.mjs starts this
// with a pipe on its stdin and never writes to it: the pipe closes when that process exits,
// however it exits (SIGKILL included), and then every daemon of the cluster is killed and
// its directory removed. After a normal stop there is nothing left to remove.
import { destroyClusterSync } from './cluster.mjs';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: watchdog.mjs <cluster directory>');

function cleanUp() {
  destroyClusterSync(dir);
  process.exit(0);
}

process.stdin.on('error', cleanUp);
process.stdin.on('end', cleanUp);
process.stdin.on('close', cleanUp);
process.stdin.resume();
process.once('SIGTERM', cleanUp);
process.once('SIGHUP', cleanUp);
process.once('SIGINT', cleanUp);
