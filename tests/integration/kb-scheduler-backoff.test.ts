// The KB scheduler backs off after failed rounds (server/openwebui/scheduler.ts): a broken Open
// WebUI route is not asked again every interval, changes wait for the hold, and the first
// success lifts it.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Change } from '../../shared/protocol.ts';
import { OpenWebUIError } from '../../server/openwebui/http.ts';
import type { KbSync } from '../../server/openwebui/kb-sync.ts';
import type { SyncSummary } from '../../server/openwebui/kb-types.ts';
import { backoffDelay, KbScheduler } from '../../server/openwebui/scheduler.ts';
import type { WorkspaceStore } from '../../server/workspace/types.ts';

const EMPTY = { uploaded: [], downloaded: [], deleted_in_openwebui: [], deleted_in_workspace: [] } as unknown as SyncSummary;

/** One user, alice; a KbSync whose rounds fail while `broken` is set. */
function rig() {
  const emitter = new EventEmitter();
  const store = {
    onChange(listener: (u: string, c: Change) => void) {
      emitter.on('change', listener);
      return () => emitter.off('change', listener);
    },
    users: async () => ['alice'],
  } as unknown as WorkspaceStore;
  const rounds: number[] = [];
  const errors: string[] = [];
  const world = { broken: true };
  const sync = {
    async sync(): Promise<SyncSummary> {
      rounds.push(Date.now());
      if (world.broken) throw new OpenWebUIError('error', 'api/v1/knowledge/k/files: answer is not JSON: 200 with its web page ("Open WebUI")', 200, true);
      return EMPTY;
    },
    idle: async () => undefined,
  } as unknown as KbSync;
  const change = (): void => void emitter.emit('change', 'alice', { path: 'a.md', hash: null, source: 'agent' });
  return { store, sync, rounds, errors, world, change };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('KB scheduler backoff', () => {
  it('backoffDelay doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 1_000, 10_000))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000]);
    expect(backoffDelay(500, 1_000, 3_600_000)).toBe(3_600_000);
  });

  it('a round that keeps failing runs at 1, 2, 4, 8 s of a 1 s interval, not every second; a success lifts the hold', async () => {
    vi.useFakeTimers({ now: 0 });
    const r = rig();
    const s = new KbScheduler(r.sync, r.store, {
      intervalSec: 1,
      debounceMs: 10,
      onError: (_u, e) => r.errors.push((e as Error).message),
    });
    s.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.rounds).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(r.errors).toHaveLength(4);
    expect(r.errors[0]).toMatch(/answer is not JSON/);
    expect(s.heldUntil('alice')).toBe(16_000);

    // A change during the hold waits for its end instead of asking the broken route at once.
    r.change();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.rounds).toHaveLength(4);

    // Fixed: the next round (at the hold's end) succeeds, and rounds run every interval again.
    r.world.broken = false;
    await vi.advanceTimersByTimeAsync(5_000); // to 16 s
    expect(r.rounds.filter((t) => t >= 16_000).length).toBeGreaterThanOrEqual(1);
    expect(s.heldUntil('alice')).toBe(0);
    const before = r.rounds.length;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(r.rounds.length - before).toBe(3);
    await s.stop();
  });
});
