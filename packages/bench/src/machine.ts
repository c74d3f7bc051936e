import { closeSync, fdatasyncSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { summarize } from './statistics.js';

/**
 * The machine the figures were taken on, with the two physical limits every durable
 * write is bounded by: how long one fdatasync takes and how fast the disk takes
 * sequential bytes. Ratios read against these, not against each other alone.
 */
export interface MachineRecord {
  date: string;
  cpuModel: string;
  cores: number;
  /** 1, 5 and 15 minute load averages at the start: how busy the machine was with other work. */
  loadAverage: number[];
  memoryBytes: number;
  kernel: string;
  node: string;
  temporaryDirectory: string;
  fileSystem: { mountPoint: string; type: string; device: string };
  fdatasyncMicrosecondsMedian: number;
  fdatasyncSamples: number;
  sequentialWriteMegabytesPerSecond: number;
  sequentialWriteBytes: number;
}

const FDATASYNC_SAMPLES = 50;
const FDATASYNC_WRITE_BYTES = 4096;
const SEQUENTIAL_CHUNK_BYTES = 1 << 20;
const SEQUENTIAL_BYTES_DEFAULT = 256 << 20;
const SEQUENTIAL_BYTES_QUICK = 32 << 20;

export function fileSystemOf(path: string): MachineRecord['fileSystem'] {
  const resolved = realpathSync(path);
  let best = { mountPoint: '/', type: 'unknown', device: 'unknown' };
  let mounts: string;
  try {
    mounts = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return best;
  }
  for (const line of mounts.split('\n')) {
    const [device, mountPoint, type] = line.split(' ');
    if (device === undefined || mountPoint === undefined || type === undefined) continue;
    const contains = mountPoint === '/' || resolved === mountPoint || resolved.startsWith(`${mountPoint}/`);
    // The longest mount point that contains the path is the one it lives on; a later
    // line for the same point (an over-mount) wins.
    if (contains && mountPoint.length >= best.mountPoint.length) best = { mountPoint, type, device };
  }
  return best;
}

/** Median latency of appending 4 KiB and fdatasync-ing it, the cost of one durable write. */
function measureFdatasync(directory: string): number {
  const path = join(directory, 'fdatasync-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(FDATASYNC_WRITE_BYTES, 0x5a);
  const samples: number[] = [];
  try {
    for (let index = 0; index < FDATASYNC_SAMPLES; index++) {
      writeSync(fd, block, 0, block.length, index * block.length);
      const started = process.hrtime.bigint();
      fdatasyncSync(fd);
      samples.push(Number(process.hrtime.bigint() - started) / 1e3);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return summarize(samples).median;
}

/** Sequential write bandwidth to durable storage: 1 MiB writes, one fdatasync at the end. */
function measureSequentialWrite(directory: string, totalBytes: number): number {
  const path = join(directory, 'sequential-probe');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(SEQUENTIAL_CHUNK_BYTES, 0xa5);
  try {
    const started = process.hrtime.bigint();
    for (let position = 0; position < totalBytes; position += chunk.length) writeSync(fd, chunk, 0, chunk.length, position);
    fdatasyncSync(fd);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return totalBytes / 1e6 / seconds;
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

export function recordMachine(directory: string, quick: boolean): MachineRecord {
  const sequentialBytes = quick ? SEQUENTIAL_BYTES_QUICK : SEQUENTIAL_BYTES_DEFAULT;
  const processors = cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    temporaryDirectory: directory,
    fileSystem: fileSystemOf(directory),
    fdatasyncMicrosecondsMedian: measureFdatasync(directory),
    fdatasyncSamples: FDATASYNC_SAMPLES,
    sequentialWriteMegabytesPerSecond: measureSequentialWrite(directory, sequentialBytes),
    sequentialWriteBytes: sequentialBytes,
  };
}
