import fc from 'fast-check';
import { expect, test } from 'vitest';
import { quantile, summarize } from './statistics.js';

test('the median of an odd count is the middle value and of an even count the mean of the two middle ones', () => {
  expect(summarize([5, 1, 3]).median).toBe(3);
  expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  expect(summarize([7])).toEqual({ median: 7, min: 7, max: 7, rounds: 1 });
});

test('the median lies between the minimum and the maximum', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), { minLength: 1, maxLength: 50 }), (values) => {
      const summary = summarize(values);
      expect(summary.min).toBeLessThanOrEqual(summary.median);
      expect(summary.median).toBeLessThanOrEqual(summary.max);
      expect(summary.rounds).toBe(values.length);
    }),
  );
});

test('quantile of an empty list is NaN', () => {
  expect(quantile([], 0.5)).toBeNaN();
});
