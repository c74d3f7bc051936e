import type { RecoveryReport } from '@keel/core';

/** A recovery report for people and scripts: the tail found, and each action done or that would be done. */
export function describeRecovery(report: RecoveryReport, tense: 'would' | 'did'): { tailState: string; validBytes: number; discardedBytes: number; actions: string[] } {
  return {
    tailState: report.tailState,
    validBytes: report.validBytes,
    discardedBytes: report.discardedBytes,
    actions: report.actions.map((action) => `${tense === 'would' ? 'would ' : ''}${action.kind} ${action.path}${action.offset === undefined ? '' : ` at ${action.offset}`}${action.bytes === undefined ? '' : ` (${action.bytes} bytes)`}${action.detail === undefined ? '' : `: ${action.detail}`}`),
  };
}
