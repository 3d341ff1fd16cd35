// Notifications: only what needs the user, each once, and bursts coalesced into one.
import { describe, expect, it, vi } from 'vitest';
import { NoticeTracker, NotificationCoalescer, summarize, type Notice, type NoticeEvent, type Timers } from '../../app/main/notify-policy.ts';
import type { ConflictInfo, EngineStatus } from '../../app/engine-api/types.ts';

const base: EngineStatus = { phase: 'idle', pending: 0, conflicts: [], issues: [] };
const conflict = (path: string): ConflictInfo => ({
  path,
  copyPath: `${path}.conflict`,
  device: 'laptop',
  detectedAt: '2026-11-27T10:15:00Z',
  mine: { size: 1, modified: '2026-11-27T10:00:00Z', hash: 'sha256:' + 'a'.repeat(64) },
  theirs: { size: 2, modified: '2026-11-27T10:10:00Z', hash: 'sha256:' + 'b'.repeat(64) },
});

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      pending.set(next, { fn, ms });
      return next++;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    pending,
    fireAll() {
      for (const [id, t] of [...pending]) {
        pending.delete(id);
        t.fn();
      }
    },
  };
}

describe('NoticeTracker', () => {
  it('says nothing about routine syncs', () => {
    const t = new NoticeTracker();
    expect(t.fromStatus({ ...base, phase: 'syncing', pending: 5 })).toEqual([]);
    expect(t.fromStatus({ ...base, phase: 'idle', lastSyncAt: 'now' })).toEqual([]);
    expect(t.fromStatus({ ...base, phase: 'offline', issues: [{ code: 'network', message: 'unreachable' }] })).toEqual([]);
    expect(t.fromStatus({ ...base, issues: [{ code: 'rate_limited', message: 'slow down' }] })).toEqual([]);
  });

  it('announces each new conflict once, and again only after it was resolved and came back', () => {
    const t = new NoticeTracker();
    expect(t.fromStatus({ ...base, conflicts: [conflict('a.md')] }).map((e) => e.path)).toEqual(['a.md']);
    expect(t.fromStatus({ ...base, conflicts: [conflict('a.md')] })).toEqual([]);
    expect(t.fromStatus({ ...base, conflicts: [conflict('a.md'), conflict('b.md')] }).map((e) => e.path)).toEqual(['b.md']);
    expect(t.fromStatus(base)).toEqual([]);
    expect(t.fromStatus({ ...base, conflicts: [conflict('a.md')] }).map((e) => e.path)).toEqual(['a.md']);
  });

  it('does not repeat a conflict reported by both the conflict event and the status', () => {
    const t = new NoticeTracker();
    expect(t.fromConflict(conflict('a.md'))).toHaveLength(1);
    expect(t.fromStatus({ ...base, conflicts: [conflict('a.md')] })).toEqual([]);
    expect(t.fromConflict(conflict('a.md'))).toEqual([]);
  });

  it('announces auth failures, quota and size rejections and the mass-delete guard', () => {
    const t = new NoticeTracker();
    const evs = t.fromStatus({
      ...base,
      phase: 'error',
      issues: [
        { code: 'auth', message: 'key revoked' },
        { code: 'quota', message: 'workspace full' },
        { code: 'too_large', message: 'big.bin is 20 MB', path: 'big.bin' },
        { code: 'mass_delete', message: '40 of 50 files', hint: 'Restore or confirm' },
      ],
    });
    expect(evs.map((e) => e.kind)).toEqual(['auth', 'quota', 'too_large', 'mass_delete']);
    expect(evs[3]).toMatchObject({ hint: 'Restore or confirm' });
  });
});

describe('summarize', () => {
  const ev = (kind: NoticeEvent['kind'], path?: string): NoticeEvent => ({ kind, key: `${kind}:${path}`, message: `${kind} ${path ?? ''}`.trim(), ...(path ? { path } : {}) });

  it('one conflict: names the file and opens the conflict dialog', () => {
    const n = summarize([{ kind: 'conflict', key: 'k', path: 'notes/plan.md', message: 'notes/plan.md was changed here and on laptop' }]);
    expect(n).toMatchObject({ title: 'Conflict in plan.md', target: 'conflicts' });
    expect(n.body).toBe('notes/plan.md was changed here and on laptop. Choose which version to keep.');
  });

  it('many conflicts: one count, a few names', () => {
    const n = summarize(['a.md', 'b.md', 'c.md', 'd.md', 'e.md'].map((p) => ev('conflict', p)));
    expect(n.title).toBe('5 new conflicts');
    expect(n.body).toBe('a.md, b.md, c.md and 2 more. Choose which versions to keep.');
  });

  it('mixed: the most urgent kind leads and decides where a click goes', () => {
    const n = summarize([ev('conflict', 'a.md'), ev('too_large', 'big.bin'), ev('mass_delete')]);
    expect(n.title).toBe('Sync stopped to protect your files');
    expect(n.target).toBe('activity');
    expect(n.body.split('\n').slice(1)).toEqual(['Conflict in a.md', 'File too large to sync']);
    expect(summarize([ev('auth'), ev('conflict', 'a.md')]).target).toBe('settings');
  });
});

describe('NotificationCoalescer', () => {
  it('turns a burst into a single notification after the window', () => {
    const clock = manualTimers();
    const shown: Notice[] = [];
    const c = new NotificationCoalescer(2000, (n) => shown.push(n), clock.timers);
    for (let i = 0; i < 50; i++) c.push([{ kind: 'conflict', key: `k${i}`, path: `f${i}.md`, message: `f${i}.md` }]);
    expect(shown).toEqual([]);
    expect(clock.pending.size).toBe(1);
    expect([...clock.pending.values()][0]!.ms).toBe(2000);
    clock.fireAll();
    expect(shown).toHaveLength(1);
    expect(shown[0]!.title).toBe('50 new conflicts');
    expect(shown[0]!.events).toHaveLength(50);
  });

  it('starts a new window for events after a flush, and ignores empty pushes', () => {
    const clock = manualTimers();
    const show = vi.fn();
    const c = new NotificationCoalescer(1000, show, clock.timers);
    c.push([]);
    expect(clock.pending.size).toBe(0);
    c.push([{ kind: 'auth', key: 'a', message: 'key revoked' }]);
    clock.fireAll();
    c.push([{ kind: 'quota', key: 'q', message: 'full' }]);
    clock.fireAll();
    expect(show).toHaveBeenCalledTimes(2);
    expect(show.mock.calls.map((args) => (args[0] as Notice).title)).toEqual(['Cannot sign in to the hub', 'Workspace is full']);
  });

  it('drops unshown events on dispose (quitting)', () => {
    const clock = manualTimers();
    const show = vi.fn();
    const c = new NotificationCoalescer(1000, show, clock.timers);
    c.push([{ kind: 'auth', key: 'a', message: 'x' }]);
    c.dispose();
    expect(clock.pending.size).toBe(0);
    c.flush();
    expect(show).not.toHaveBeenCalled();
  });
});
