// When KB rounds run: every interval for every user, and soon after a workspace change. Changes
// the KB sync made itself (source 'openwebui') do not trigger a round, or it would chase its own
// tail.
//
// The rule after a change (why: a single edit should reach the KB within about a second, and a
// burst of writes should still make few rounds): a round starts once the user's workspace has been
// quiet for `debounceMs` (100 ms by default), but no later than `debounceMaxMs` (1 s) after the
// first change of the burst, so a stream of writes cannot put it off for ever. While a round the
// scheduler started is running, further changes make exactly one more round after it, not one per
// change: that round lists the workspace when it starts and so sees all of them. A trailing quiet
// period was chosen over "run at once, then debounce" because the agent's writes arrive in small
// groups (a tool writing several files), which one round then takes together.
//
// A round that fails (Open WebUI down, or answering a route with an error or its web page) puts
// that user's scheduled rounds on hold, doubling from `backoffBaseMs` up to `backoffCapMs`, so a
// broken route is not asked again every interval; changes in that time wait for the hold to end.
// A round asked for by hand (`POST .../sync`) always runs, and the first success lifts the hold.
import type { WorkspaceStore } from '../workspace/types.ts';
import type { KbSync } from './kb-sync.ts';
import type { SyncSummary } from './kb-types.ts';

export interface SchedulerOptions {
  intervalSec: number;
  /** Quiet period after the last change. */
  debounceMs: number;
  /** Longest wait after the first change of a burst (default: 10 x debounceMs). */
  debounceMaxMs?: number;
  onError?: (userId: string, err: unknown) => void;
  /** The first hold after a failed round (default: the interval, at least 1 s). */
  backoffBaseMs?: number;
  /** The longest hold (default 1 h). */
  backoffCapMs?: number;
  now?: () => number;
}

/** Failed scheduled rounds in a row, and until when the user's scheduled rounds wait. */
interface Hold {
  failures: number;
  until: number;
}

/** How long to hold after `failures` failed rounds in a row (pure): base, 2 x base ... up to cap. */
export function backoffDelay(failures: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
}

/** Per user: the pending trigger, and the round the scheduler started. */
interface UserTrigger {
  timer?: NodeJS.Timeout;
  /** When the first change of the burst came (ms). */
  firstAt?: number;
  running: boolean;
  /** Changes came while the round ran: one more round after it. */
  again: boolean;
}

/** When the next round may start: the quiet period after `now`, capped at the burst's deadline (pure). */
export function nextStart(now: number, firstAt: number, debounceMs: number, debounceMaxMs: number): number {
  return Math.min(now + debounceMs, firstAt + Math.max(debounceMs, debounceMaxMs));
}

export class KbScheduler {
  private interval: NodeJS.Timeout | undefined;
  private readonly users = new Map<string, UserTrigger>();
  private readonly holds = new Map<string, Hold>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly sync: KbSync,
    private readonly store: WorkspaceStore,
    private readonly opts: SchedulerOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.store.onChange((userId, change) => {
      if (change.source === 'openwebui') return;
      this.poke(userId);
    });
    if (this.opts.intervalSec > 0) {
      this.interval = setInterval(() => void this.everyone(), this.opts.intervalSec * 1000);
      this.interval.unref();
    }
  }

  /** A change for this user: a round soon (see the rule at the top). */
  poke(userId: string): void {
    if (this.stopped) return;
    const u = this.users.get(userId) ?? { running: false, again: false };
    this.users.set(userId, u);
    if (u.running) {
      u.again = true;
      return;
    }
    const now = this.now();
    u.firstAt ??= now;
    clearTimeout(u.timer);
    const max = this.opts.debounceMaxMs ?? this.opts.debounceMs * 10;
    const at = Math.max(nextStart(now, u.firstAt, this.opts.debounceMs, max), this.heldUntil(userId));
    const t = setTimeout(() => this.fire(userId, u), Math.max(0, at - now));
    t.unref();
    u.timer = t;
  }

  private fire(userId: string, u: UserTrigger): void {
    u.timer = undefined;
    u.firstAt = undefined;
    if (this.stopped) return;
    u.running = true;
    u.again = false;
    this.sync.sync(userId, 'bidirectional').then(
      (s) => {
        this.holds.delete(userId);
        this.ended(userId, u, moved(s));
      },
      (e: unknown) => {
        this.failed(userId, e);
        this.ended(userId, u, false);
      },
    );
  }

  private ended(userId: string, u: UserTrigger, moved: boolean): void {
    u.running = false;
    // A workspace event that lands while a round lists the folder can go unseen by that round;
    // after a round that moved files, one more round confirms nothing is left (it converges: a
    // round with nothing to move does not ask for another).
    if (u.again || moved) this.poke(userId);
    else if (!u.timer) this.users.delete(userId);
  }

  private async everyone(): Promise<void> {
    let users: string[];
    try {
      users = await this.store.users();
    } catch (e) {
      this.opts.onError?.('*', e);
      return;
    }
    // One user after another: the rounds share one Open WebUI.
    for (const u of users) {
      if (this.stopped) return;
      if (this.heldUntil(u) > this.now()) continue;
      await this.sync.sync(u, 'bidirectional').then(
        () => void this.holds.delete(u),
        (e: unknown) => this.failed(u, e),
      );
    }
  }

  /** Until when this user's scheduled rounds wait (0: they do not). */
  heldUntil(userId: string): number {
    return this.holds.get(userId)?.until ?? 0;
  }

  private failed(userId: string, e: unknown): void {
    const failures = (this.holds.get(userId)?.failures ?? 0) + 1;
    const base = this.opts.backoffBaseMs ?? Math.max(1_000, this.opts.intervalSec * 1000);
    const delay = backoffDelay(failures, base, this.opts.backoffCapMs ?? 3600_000);
    this.holds.set(userId, { failures, until: this.now() + delay });
    this.opts.onError?.(userId, e);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    for (const u of this.users.values()) clearTimeout(u.timer);
    this.users.clear();
    this.unsubscribe?.();
    await this.sync.idle();
  }
}

function moved(s: SyncSummary): boolean {
  return s.uploaded.length + s.downloaded.length + s.deleted_in_openwebui.length + s.deleted_in_workspace.length > 0;
}
