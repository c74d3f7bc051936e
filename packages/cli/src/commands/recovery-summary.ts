import { isRepair, type RecoveryAction, type RecoveryReport } from '@keel/core';

/**
 * A recovery report for people and scripts: the tail found, and each action done or that
 * would be done. An action that is no repair (a trusted clean-shutdown record, a file
 * left alone) is what the open itself found, so it is never phrased as "would".
 */
export function describeRecovery(report: RecoveryReport, tense: 'would' | 'did'): { tailState: string; validBytes: number; discardedBytes: number; actions: string[] } {
  return {
    tailState: report.tailState,
    validBytes: report.validBytes,
    discardedBytes: report.discardedBytes,
    actions: report.actions.map((action) => `${tense === 'would' && isRepair(action) ? 'would ' : ''}${action.kind} ${action.path}${action.offset === undefined ? '' : ` at ${action.offset}`}${action.bytes === undefined ? '' : ` (${action.bytes} bytes)`}${action.detail === undefined ? '' : `: ${action.detail}`}`),
  };
}

/** The actions that repair something: what makes a recovery more than an open. */
export function repairsOf(report: RecoveryReport): RecoveryAction[] {
  return report.actions.filter(isRepair);
}
