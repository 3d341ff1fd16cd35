// What the engine shows its shell (app/engine-api/types.ts `EngineStatus`): the phase, what needs
// the user, the running round's progress and the recent activity. Every change the shell should
// see is emitted as a 'status' or 'activity' event.
import type { EventEmitter } from 'node:events';
import type { ActivityEntry, ConflictInfo, EngineIssue, EnginePhase, EngineProgress, EngineStatus } from '../engine-api/types.ts';

/** Entries `recentActivity` keeps. */
const ACTIVITY_KEPT = 200;

export interface StatusSources {
  events: EventEmitter;
  /** The open conflicts (state.ts), as the shell sees them. */
  conflicts: () => ConflictInfo[];
  userId: () => string | undefined;
  /** The engine is stopping or stopped: only 'stopped' may still be shown. */
  stopped: () => boolean;
}

export class StatusBoard {
  private phase: EnginePhase = 'idle';
  /** What the last round (or the failure that ended it) left for the user. */
  issues: EngineIssue[] = [];
  private activityLog: ActivityEntry[] = [];
  lastSyncAt: string | undefined;
  /** Files waiting to sync (for the tray's "syncing (N)"). */
  pending = 0;
  /** Transfers of the running round; undefined between rounds. */
  progress: EngineProgress | undefined;

  constructor(private readonly from: StatusSources) {}

  status(): EngineStatus {
    const userId = this.from.userId();
    return {
      phase: this.phase,
      pending: this.pending,
      ...(this.progress ? { progress: { ...this.progress } } : {}),
      conflicts: this.from.conflicts(),
      issues: [...this.issues],
      ...(this.lastSyncAt ? { lastSyncAt: this.lastSyncAt } : {}),
      ...(userId ? { userId } : {}),
    };
  }

  setPhase(p: EnginePhase): void {
    if (this.from.stopped() && p !== 'stopped') return;
    const changed = p !== this.phase;
    this.phase = p;
    if (changed) this.from.events.emit('status', this.status());
  }

  activity(a: ActivityEntry): void {
    // A file skipped for the same reason every round is told once, not once per round.
    if (a.outcome === 'skipped' && this.activityLog.some((b) => b.outcome === 'skipped' && b.path === a.path && b.direction === a.direction && b.detail === a.detail)) return;
    this.activityLog = [a, ...this.activityLog].slice(0, ACTIVITY_KEPT);
    this.from.events.emit('activity', a);
    this.setPhase('syncing');
  }

  recentActivity(): ActivityEntry[] {
    return [...this.activityLog];
  }

  /** A transfer finished or the round planned its transfers. */
  setProgress(p: EngineProgress): void {
    this.progress = p.filesDone < p.filesTotal ? p : undefined;
    this.from.events.emit('status', this.status());
  }

  /** A round (full or quick) brought everything in sync. */
  synced(): void {
    this.lastSyncAt = new Date().toISOString();
    this.progress = undefined;
  }
}
