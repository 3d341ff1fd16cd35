// When the KB scheduler starts a round after workspace changes (server/openwebui/scheduler.ts):
// soon after a single change, once for a burst, no later than the max wait for a stream, and one
// more round (not one per change) for changes made while a round runs.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../shared/protocol.ts';
import type { KbSync } from '../../server/openwebui/kb-sync.ts';
import type { SyncSummary } from '../../server/openwebui/kb-types.ts';
import { KbScheduler, nextStart } from '../../server/openwebui/scheduler.ts';
import type { WorkspaceStore } from '../../server/workspace/types.ts';

/** A store that only announces changes, and a KbSync that records when rounds start. */
function rig(opts: { roundMs?: number; moves?: boolean } = {}) {
  const emitter = new EventEmitter();
  const store = {
    onChange(listener: (u: string, c: Change) => void) {
      emitter.on('change', listener);
      return () => emitter.off('change', listener);
    },
    users: async () => [],
  } as unknown as WorkspaceStore;
  const starts: number[] = [];
  let running = 0;
  let overlapped = false;
  const sync = {
    async sync(): Promise<SyncSummary> {
      starts.push(Date.now());
      if (running++ > 0) overlapped = true;
      await new Promise((r) => setTimeout(r, opts.roundMs ?? 20));
      running--;
      const moved = opts.moves && starts.length === 1 ? ['x.md'] : [];
      return { uploaded: moved, downloaded: [], deleted_in_openwebui: [], deleted_in_workspace: [] } as unknown as SyncSummary;
    },
    idle: async () => undefined,
  } as unknown as KbSync;
  const change = (path = 'a.md', source: Change['source'] = 'agent'): void => void emitter.emit('change', 'alice', { path, hash: null, source });
  return { store, sync, starts, change, overlapped: () => overlapped };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KB scheduler', () => {
  it('nextStart: the quiet period after the latest change, capped at the burst deadline', () => {
    expect(nextStart(1_000, 1_000, 100, 1_000)).toBe(1_100);
    expect(nextStart(1_500, 1_000, 100, 1_000)).toBe(1_600);
    expect(nextStart(1_950, 1_000, 100, 1_000)).toBe(2_000);
    // A max wait below the quiet period never makes it shorter.
    expect(nextStart(1_000, 1_000, 100, 0)).toBe(1_100);
  });

  it('one change: a round starts after the quiet period, within ~100-300 ms', async () => {
    const r = rig();
    const s = new KbScheduler(r.sync, r.store, { intervalSec: 0, debounceMs: 100, debounceMaxMs: 1_000 });
    s.start();
    const t0 = Date.now();
    r.change();
    await sleep(400);
    await s.stop();
    expect(r.starts).toHaveLength(1);
    expect(r.starts[0]! - t0).toBeGreaterThanOrEqual(95);
    expect(r.starts[0]! - t0).toBeLessThan(300);
  });

  it('a burst of changes makes one round; its own writes (source openwebui) none', async () => {
    const r = rig();
    const s = new KbScheduler(r.sync, r.store, { intervalSec: 0, debounceMs: 100, debounceMaxMs: 1_000 });
    s.start();
    for (let i = 0; i < 10; i++) {
      r.change(`f${i}.md`);
      await sleep(20);
    }
    r.change('from-kb.md', 'openwebui');
    await sleep(400);
    await s.stop();
    expect(r.starts).toHaveLength(1);
  });

  it('a stream of changes cannot put the round off beyond the max wait', async () => {
    const r = rig();
    const s = new KbScheduler(r.sync, r.store, { intervalSec: 0, debounceMs: 100, debounceMaxMs: 500 });
    s.start();
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) {
      r.change(`f${i}.md`);
      await sleep(30);
    }
    await s.stop();
    expect(r.starts.length).toBeGreaterThanOrEqual(1);
    expect(r.starts[0]! - t0).toBeLessThan(700);
  });

  it('changes during a round make exactly one more round after it, never two at once', async () => {
    const r = rig({ roundMs: 300 });
    const s = new KbScheduler(r.sync, r.store, { intervalSec: 0, debounceMs: 50, debounceMaxMs: 500 });
    s.start();
    r.change();
    await sleep(100); // the round runs now
    for (let i = 0; i < 5; i++) {
      r.change(`during${i}.md`);
      await sleep(30);
    }
    await sleep(900);
    await s.stop();
    expect(r.starts).toHaveLength(2);
    expect(r.overlapped()).toBe(false);
  });

  it('a round that moved files is followed by one confirming round, which ends it', async () => {
    const r = rig({ moves: true });
    const s = new KbScheduler(r.sync, r.store, { intervalSec: 0, debounceMs: 50, debounceMaxMs: 500 });
    s.start();
    r.change();
    await sleep(500);
    await s.stop();
    expect(r.starts).toHaveLength(2);
  });
});
