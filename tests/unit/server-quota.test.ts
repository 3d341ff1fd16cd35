import { describe, expect, it } from 'vitest';
import { wouldExceedQuota } from '../../server/workspace/quota.ts';

describe('quota arithmetic', () => {
  const q = (usedBytes: number, replacedBytes: number, newBytes: number, quotaBytes = 100): boolean =>
    wouldExceedQuota({ usedBytes, replacedBytes, newBytes, quotaBytes });

  it('allows a new file that fits exactly, refuses one byte more', () => {
    expect(q(60, 0, 40)).toBe(false);
    expect(q(60, 0, 41)).toBe(true);
  });
  it('counts the replaced file as freed', () => {
    expect(q(100, 30, 30)).toBe(false);
    expect(q(90, 30, 40)).toBe(false);
    expect(q(90, 30, 41)).toBe(true);
  });
  it('always allows shrinking, even over quota (so a full workspace can be cleaned up)', () => {
    expect(q(150, 50, 10)).toBe(false);
    expect(q(150, 50, 50)).toBe(false);
    expect(q(150, 50, 51)).toBe(true);
  });
});
