// Pure parts of conditional listings: the walk's diff against the hub's view, the walk scheduler,
// the If-None-Match parsing, and the client's clean-cursor rules.
import { describe, expect, it } from 'vitest';
import { cleanAfter, usableCleanCursor } from '../../app/sync/clean-cursor.ts';
import { emptyState } from '../../app/sync/state.ts';
import { createIgnore } from '../../shared/ignore-rules.ts';
import { silentLogger } from '../../server/log.ts';
import { listingTag } from '../../server/http/workspace-routes.ts';
import { missedChanges, VerifyScheduler } from '../../server/workspace/verify-walk.ts';

const H = 'sha256:' + 'a'.repeat(64);
const H2 = 'sha256:' + 'b'.repeat(64);

describe('verification walk', () => {
  it('reports new and changed files and paths gone from disk', () => {
    const walked = [
      { rel: 'same.txt', path: 'same.txt', hash: H, before: H },
      { rel: 'changed.txt', path: 'changed.txt', hash: H2, before: H },
      { rel: 'new.txt', path: 'new.txt', hash: H, before: undefined },
    ];
    const live = new Set(['same.txt', 'changed.txt', 'new.txt']);
    expect(missedChanges(walked, ['same.txt', 'changed.txt', 'gone.txt'], live)).toEqual({ upserts: ['changed.txt', 'new.txt'], deletes: ['gone.txt'] });
  });

  it('runs one walk per user at a time and defers one asked for too soon', async () => {
    let now = 1_000_000;
    const last = new Map<string, number>();
    const started: string[] = [];
    let release: () => void = () => {};
    const s = new VerifyScheduler(
      async (u) => {
        started.push(u);
        last.set(u, now);
        await new Promise<void>((r) => (release = r));
      },
      (u) => last.get(u),
      silentLogger(),
      50,
      () => now,
    );
    s.request('a');
    s.request('a');
    expect(started).toEqual(['a']);
    release();
    await s.idle();
    // Too soon after the last walk: deferred, not dropped.
    s.request('a');
    expect(started).toEqual(['a']);
    now += 60;
    await new Promise((r) => setTimeout(r, 80));
    expect(started).toEqual(['a', 'a']);
    release();
    await s.idle();
    s.close();
  });
});

describe('If-None-Match of a listing', () => {
  it('names one cursor', () => {
    expect(listingTag('"abc123:7"')).toBe('abc123:7');
    expect(listingTag(' W/"abc123:0" ')).toBe('abc123:0');
    for (const bad of [undefined, '*', 'abc123:7', '"abc123:7", "abc123:8"', '"ABC:1"', '"a:01"', '"sha256:' + 'a'.repeat(64) + '"']) expect(listingTag(bad)).toBeUndefined();
  });
});

describe('clean cursor', () => {
  const ignore = createIgnore();
  it('holds when the listing equals base on every path the rules let through', () => {
    const base = { 'a.txt': H, 'node_modules/x.js': H };
    expect(cleanAfter([{ path: 'a.txt', hash: H }, { path: '__pycache__/m.pyc', hash: H2 }], base, ignore)).toEqual({ hidden: ['__pycache__/m.pyc', 'node_modules/x.js'] });
    expect(cleanAfter([{ path: 'a.txt', hash: H2 }], { 'a.txt': H }, ignore)).toBeUndefined();
    expect(cleanAfter([], { 'a.txt': H }, ignore)).toBeUndefined();
    expect(cleanAfter([{ path: 'a.txt', hash: H }, { path: 'b.txt', hash: H }], { 'a.txt': H }, ignore)).toBeUndefined();
    expect(cleanAfter([{ path: 'constructor', hash: H }], {}, ignore)).toBeUndefined();
  });

  it('is not used once a path it hid is no longer ignored', () => {
    const state = { ...emptyState(), clean_cursor: 'e:1', clean_hidden: ['build/out.bin'] };
    expect(usableCleanCursor(state, createIgnore(['build/']))).toBe('e:1');
    expect(usableCleanCursor(state, createIgnore())).toBeUndefined();
    expect(usableCleanCursor(emptyState(), ignore)).toBeUndefined();
  });
});
