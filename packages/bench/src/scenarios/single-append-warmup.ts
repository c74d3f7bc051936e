import type { ScenarioSizing } from '../types.js';

/**
 * Durable single appends each system makes in warm-up rounds before its measured rounds.
 * A store's append + sync path is JavaScript that V8 compiles with its optimizing tier
 * only after it has run some thousands of times (the journal's functions reach it between
 * the 1,000th and the 5,500th append, measured with `--trace-opt`); before then each
 * append costs 20–40 µs more on a loaded machine, which is start-up cost, not the rate a
 * writer appending one record at a time settles at. Raw `node:fs` is mostly C++ and
 * barely changes. One warm-up round, as elsewhere, left most measured rounds in the
 * unoptimized tiers.
 */
export const SINGLE_APPEND_WARMUP_APPENDS = 5_000;

/** `sizing` with enough warm-up rounds of `workPerRound` appends to cover SINGLE_APPEND_WARMUP_APPENDS (full runs only). */
export function withSingleAppendWarmup(sizing: ScenarioSizing, quick: boolean): ScenarioSizing {
  if (quick) return sizing;
  const warmupRounds = Math.max(sizing.warmupRounds, Math.ceil(SINGLE_APPEND_WARMUP_APPENDS / sizing.workPerRound));
  const note = `${warmupRounds * sizing.workPerRound} appends per system in warm-up rounds first, so V8 has optimized each system's append path`;
  return { ...sizing, warmupRounds, scaleNote: sizing.scaleNote === undefined ? note : `${sizing.scaleNote}; ${note}` };
}
