// When KB rounds run: every interval for every user, and shortly after any workspace change
// (debounced, so a burst of writes makes one round). Changes the KB sync made itself
// (source 'openwebui') do not trigger a round, or it would chase its own tail.
import type { WorkspaceStore } from '../workspace/types.ts';
import type { KbSync } from './kb-sync.ts';

export interface SchedulerOptions {
  intervalSec: number;
  debounceMs: number;
  onError?: (userId: string, err: unknown) => void;
}

export class KbScheduler {
  private interval: NodeJS.Timeout | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
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

  /** Debounced round for one user. */
  poke(userId: string): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(userId));
    const t = setTimeout(() => {
      this.timers.delete(userId);
      this.run(userId);
    }, this.opts.debounceMs);
    t.unref();
    this.timers.set(userId, t);
  }

  private run(userId: string): void {
    if (this.stopped) return;
    this.sync.sync(userId, 'bidirectional').then(
      (s) => {
        // A workspace event that lands while a round lists the folder can go unseen by that round;
        // after a round that moved files, one more debounced round confirms nothing is left
        // (it converges: a round with nothing to move does not ask for another).
        const moved = s.uploaded.length + s.downloaded.length + s.deleted_in_openwebui.length + s.deleted_in_workspace.length;
        if (moved > 0) this.poke(userId);
      },
      (e: unknown) => this.opts.onError?.(userId, e),
    );
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
      await this.sync.sync(u, 'bidirectional').catch((e: unknown) => this.opts.onError?.(u, e));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.unsubscribe?.();
    await this.sync.idle();
  }
}
