/** Order statistics over a handful of rounds. */

export function quantile(sortedValues: readonly number[], fraction: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const position = (sortedValues.length - 1) * fraction;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sortedValues[below] as number;
  const high = sortedValues[above] as number;
  return low + (high - low) * (position - below);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((left, right) => left - right);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    rounds: sorted.length,
  };
}
