import type { SystemResult } from './harness.js';
import type { MachineRecord } from './machine.js';

/** Three significant digits, with k/M/G for large rates. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${(value / 1e9).toPrecision(3)}G`;
  if (magnitude >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (magnitude >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  if (magnitude >= 100) return value.toFixed(0);
  return value.toPrecision(3);
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  // Two decimals hide how far behind a system is when the ratio is tiny.
  return ratio < 0.1 ? `${ratio.toPrecision(2)}×` : `${ratio.toFixed(2)}×`;
}

function targetCell(result: SystemResult): string {
  if (result.target === undefined) return '';
  const verdict = `${result.target}: ${result.met ? 'met' : 'NOT met'}`;
  return result.ceiling === undefined ? verdict : `${verdict} (${result.ceiling.system}: ${formatRatio(result.ceiling.ratio)})`;
}

const HEADERS = ['scenario', 'system', 'unit', 'median', 'min–max', 'keel ×', 'syncs/round', 'target'];

function rowCells(result: SystemResult): string[] {
  return [
    result.scenario,
    result.system,
    result.unit,
    formatNumber(result.median),
    `${formatNumber(result.min)}–${formatNumber(result.max)}`,
    formatRatio(result.ratio),
    result.syncsPerRound === undefined ? '' : String(result.syncsPerRound),
    targetCell(result),
  ];
}

/** A details column joins the table only when some row has details. */
function tableRows(results: readonly SystemResult[]): string[][] {
  const withDetails = results.some((result) => result.details !== undefined);
  if (!withDetails) return [HEADERS, ...results.map(rowCells)];
  const detailCell = (result: SystemResult): string =>
    Object.entries(result.details ?? {})
      .map(([key, value]) => `${key} ${formatNumber(value)}`)
      .join(', ');
  return [[...HEADERS, 'details'], ...results.map((result) => [...rowCells(result), detailCell(result)])];
}

/** A fixed-width table for the terminal. */
export function formatTable(results: readonly SystemResult[]): string {
  const rows = tableRows(results);
  const widths = (rows[0] as string[]).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd())
    .join('\n');
}

/** The same rows as a Markdown table, for the READMEs and docs/BENCHMARKS.md. */
export function formatMarkdown(results: readonly SystemResult[]): string {
  const [headers = HEADERS, ...rows] = tableRows(results);
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export function formatMachine(machine: MachineRecord): string {
  return [
    `date: ${machine.date}`,
    `cpu: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM`,
    `kernel: ${machine.kernel}, node ${machine.node}`,
    `load average at start (1/5/15 min): ${(machine.loadAverage ?? []).join(' / ')}`,
    // The device and mount point stay in the JSON; the type is what bears on the figures.
    `file system of the temporary directory: ${machine.fileSystem.type}`,
    `fdatasync latency (4 KiB append, median of ${machine.fdatasyncSamples}): ${machine.fdatasyncMicrosecondsMedian.toFixed(0)} µs`,
    `sequential write (${machine.sequentialWriteBytes >> 20} MiB, 1 MiB writes + fdatasync): ${machine.sequentialWriteMegabytesPerSecond.toFixed(0)} MB/s`,
  ].join('\n');
}

export interface SkippedScenario {
  scenario: string;
  reason: string;
}

export interface BenchReport {
  quick: boolean;
  machine: MachineRecord;
  startedAt: string;
  finishedAt: string;
  /** 1, 5 and 15 minute load averages when the run ended. */
  loadAverageAtEnd?: number[];
  results: SystemResult[];
  skipped: SkippedScenario[];
}

const BACKEND_ORDER = ['journal', 'segment-log', 'payload-store', 'wal-kv'] as const;

/** One Markdown table per backend, the machine record first: what goes in docs and READMEs. */
export function formatMarkdownReport(report: BenchReport): string {
  const machineLines = formatMachine(report.machine).split('\n');
  if (report.loadAverageAtEnd !== undefined) machineLines.push(`load average at the end (1/5/15 min): ${report.loadAverageAtEnd.join(' / ')}`);
  const sections = [`Machine (recorded at the start of the run):\n\n${machineLines.map((line) => `- ${line}`).join('\n')}`];
  for (const backend of BACKEND_ORDER) {
    const rows = report.results.filter((result) => result.backend === backend);
    if (rows.length === 0) continue;
    const notes = [...new Set(rows.map((row) => (row.scaleNote === undefined ? undefined : `${row.scenario}: ${row.scaleNote}`)).filter((note) => note !== undefined))];
    sections.push(`### ${backend}\n\n${formatMarkdown(rows)}${notes.length > 0 ? `\n\n${notes.map((note) => `- ${note}`).join('\n')}` : ''}`);
  }
  if (report.skipped.length > 0) sections.push(`Skipped:\n\n${report.skipped.map((skip) => `- ${skip.scenario}: ${skip.reason}`).join('\n')}`);
  return `${sections.join('\n\n')}\n`;
}
