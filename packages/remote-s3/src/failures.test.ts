import { KeelError } from '@keel/core';
import { describe, expect, it } from 'vitest';

import { verdictOf } from './failures.js';
import { backoffDelayMs } from './retry.js';

/** An error shaped as the AWS SDK reports a service's answer. */
function answered(status: number, name: string): Error {
  return Object.assign(new Error(`${name} from the store`), { name, $metadata: { httpStatusCode: status } });
}

describe('what a failed attempt means', () => {
  it('no HTTP answer at all is transient', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
    expect(verdictOf(refused, 'p')).toBeUndefined();
    expect(verdictOf(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }), 'p')).toBeUndefined();
    expect(verdictOf(new Error('the response ended after 3 of 10 bytes'), 'p')).toBeUndefined();
  });

  it('5xx, 429 and S3\'s slow-down and timeout answers are transient', () => {
    for (const [status, name] of [[500, 'InternalError'], [503, 'SlowDown'], [503, 'ServiceUnavailable'], [429, 'TooManyRequests'], [400, 'RequestTimeout']] as const) {
      expect(verdictOf(answered(status, name), 'p')).toBeUndefined();
    }
  });

  it('a missing key is KEEL_NOT_FOUND; a missing bucket and other 4xx are KEEL_REMOTE_REFUSED', () => {
    expect(verdictOf(answered(404, 'NoSuchKey'), 's3://b/k')).toMatchObject({ code: 'KEEL_NOT_FOUND', path: 's3://b/k' });
    expect(verdictOf(answered(404, 'NotFound'), 'p')).toMatchObject({ code: 'KEEL_NOT_FOUND' });
    for (const [status, name] of [[404, 'NoSuchBucket'], [403, 'AccessDenied'], [403, 'SignatureDoesNotMatch'], [400, 'BadDigest']] as const) {
      expect(verdictOf(answered(status, name), 'p')).toMatchObject({ code: 'KEEL_REMOTE_REFUSED' });
    }
  });

  it('a KeelError is its own verdict', () => {
    const corrupt = new KeelError('KEEL_CORRUPT', 'bad bytes');
    expect(verdictOf(corrupt, 'p')).toBe(corrupt);
  });

  it('backoff is jittered under an exponential bound that stops at the maximum', () => {
    const policy = { attemptsMax: 10, retryTimeoutMs: 1000, backoffBaseMs: 100, backoffMaxMs: 1000 };
    for (let retry = 1; retry <= 60; retry++) {
      const bound = Math.min(1000, 100 * 2 ** (retry - 1));
      for (let i = 0; i < 20; i++) {
        const delay = backoffDelayMs(policy, retry);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(bound);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });
});
