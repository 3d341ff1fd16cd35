// The one failure/backoff record both pipelines keep (shared/failure.ts).
import { describe, expect, it } from 'vitest';
import { nextFailure, retryDue } from '../../shared/failure.ts';

const H1 = 'sha256:' + '1'.repeat(64);
const H2 = 'sha256:' + '2'.repeat(64);
const rule = { baseMs: 60_000, capMs: 6 * 3_600_000 };
const t0 = new Date('2026-12-01T00:00:00Z');

describe('failure records', () => {
  it('doubles the wait for the same content, up to the cap, and starts over for other content', () => {
    let f = nextFailure(undefined, { reason: 'too_large', message: 'too big', hash: H1 }, t0, rule);
    expect(f).toEqual({ reason: 'too_large', message: 'too big', hash: H1, attempts: 1, failed_at: t0.toISOString(), next_retry_at: '2026-12-01T00:01:00.000Z' });
    f = nextFailure(f, { reason: 'too_large', message: 'too big', hash: H1 }, t0, rule);
    expect(f.attempts).toBe(2);
    expect(f.next_retry_at).toBe('2026-12-01T00:02:00.000Z');
    for (let i = 0; i < 20; i++) f = nextFailure(f, { reason: 'too_large', message: 'too big', hash: H1 }, t0, rule);
    expect(Date.parse(f.next_retry_at) - t0.getTime()).toBe(rule.capMs);
    const other = nextFailure(f, { reason: 'too_large', message: 'too big', hash: H2 }, t0, rule);
    expect(other.attempts).toBe(1);
  });

  it('is due after its wait, or at once for changed content', () => {
    const f = nextFailure(undefined, { reason: 'quota', message: 'full', hash: H1 }, t0, rule);
    expect(retryDue(f, new Date(t0.getTime() + 59_000))).toBe(false);
    expect(retryDue(f, new Date(t0.getTime() + 60_000))).toBe(true);
    expect(retryDue(f, t0, H2)).toBe(true);
    expect(retryDue(f, t0, H1)).toBe(false);
  });

  it('keeps no hash when none is known', () => {
    expect(nextFailure(undefined, { reason: 'error', message: 'x' }, t0, rule)).not.toHaveProperty('hash');
  });
});
