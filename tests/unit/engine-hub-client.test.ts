import { describe, expect, it } from 'vitest';
import { Backoff } from '../../app/sync/backoff.ts';
import { errorFrom, kindForStatus, parseRetryAfter } from '../../app/sync/hub-errors.ts';

describe('hub errors', () => {
  it.each([
    [401, undefined, 'auth'],
    [403, undefined, 'forbidden'],
    [412, 'precondition_failed', 'precondition'],
    [413, 'too_large', 'too_large'],
    [507, 'quota_exceeded', 'quota'],
    [409, 'conflict', 'conflict'],
    [400, 'bad_path', 'bad_path'],
    [400, 'hash_mismatch', 'hash_mismatch'],
    [429, 'rate_limited', 'rate_limited'],
    [502, undefined, 'server'],
  ] as const)('%i %s -> %s', (status, code, kind) => {
    expect(kindForStatus(status, code)).toBe(kind);
  });

  it('reads the JSON error body and Retry-After', () => {
    const e = errorFrom(429, '{"error":"rate_limited","message":"slow down"}', '7');
    expect(e).toMatchObject({ kind: 'rate_limited', status: 429, code: 'rate_limited', message: 'slow down', retryAfterMs: 7000 });
    expect(errorFrom(500, '<html>', undefined).message).toBe('HTTP 500');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and is capped', () => {
    const b = new Backoff(1000, 8000, () => 0.999);
    const d = [b.next(), b.next(), b.next(), b.next(), b.next()];
    expect(d.map((x) => Math.round(x / 100) * 100)).toEqual([1000, 2000, 4000, 8000, 8000]);
    const low = new Backoff(1000, 8000, () => 0);
    expect(low.next()).toBe(500);
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(1000);
  });
});
