// Rounds started by `POST /users/{id}/workspace/sync` that did not end within the wait: the hub
// answers 202 with a round id, and `GET .../sync/{round_id}` follows it here. In memory, per
// user (a user only ever finds their own rounds), each kept `keepMs` after it ends.
import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../../shared/protocol.ts';
import type { Direction } from './plan.ts';
import type { SyncSummary } from './kb-types.ts';

/** What `GET .../sync/{round_id}` answers. */
export type RoundView = {
  round_id: string;
  direction: Direction;
  started_at: string;
} & (
  | { status: 'running' }
  | { status: 'done'; finished_at: string; summary: SyncSummary }
  | { status: 'failed'; finished_at: string; error: { error: ErrorCode; message: string } }
);

/** How a round ended, as the route reports it. */
export type RoundOutcome = { ok: true; summary: SyncSummary } | { ok: false; error: unknown };

export interface SyncRoundsOptions {
  /** How long a finished round stays readable (default 15 min). */
  keepMs?: number;
  /** Rounds kept per user; the oldest finished ones go first (default 20). */
  perUser?: number;
  now?: () => Date;
  /** Maps a failure to the code and message the API shows. */
  describe: (e: unknown) => { error: ErrorCode; message: string };
}

interface Entry {
  view: RoundView;
  /** When it may be forgotten (ms; Infinity while it runs). */
  expires: number;
}

export class SyncRounds {
  private readonly byUser = new Map<string, Map<string, Entry>>();
  private readonly keepMs: number;
  private readonly perUser: number;
  private readonly now: () => Date;

  constructor(private readonly opts: SyncRoundsOptions) {
    this.keepMs = opts.keepMs ?? 15 * 60_000;
    this.perUser = opts.perUser ?? 20;
    this.now = opts.now ?? (() => new Date());
  }

  /** Track a round; the promise never rejects: it tells how the round ended. */
  start(userId: string, direction: Direction, round: Promise<SyncSummary>): { id: string; outcome: Promise<RoundOutcome> } {
    this.prune();
    const id = randomUUID();
    const entry: Entry = { view: { round_id: id, direction, started_at: this.now().toISOString(), status: 'running' }, expires: Infinity };
    const mine = this.byUser.get(userId) ?? new Map<string, Entry>();
    this.byUser.set(userId, mine);
    mine.set(id, entry);
    this.cap(mine);
    const outcome = round.then(
      (summary): RoundOutcome => {
        this.end(entry, { status: 'done', finished_at: this.now().toISOString(), summary });
        return { ok: true, summary };
      },
      (error: unknown): RoundOutcome => {
        this.end(entry, { status: 'failed', finished_at: this.now().toISOString(), error: this.opts.describe(error) });
        return { ok: false, error };
      },
    );
    return { id, outcome };
  }

  /** This user's round, or undefined (unknown, another user's, or forgotten). */
  get(userId: string, id: string): RoundView | undefined {
    this.prune();
    return this.byUser.get(userId)?.get(id)?.view;
  }

  private end(entry: Entry, end: Partial<RoundView>): void {
    entry.view = { ...entry.view, ...end } as RoundView;
    entry.expires = this.now().getTime() + this.keepMs;
  }

  /** Drop the oldest finished rounds over the per-user cap (running ones always stay). */
  private cap(mine: Map<string, Entry>): void {
    const finished = [...mine].filter(([, e]) => e.expires !== Infinity);
    for (const [id] of finished.slice(0, Math.max(0, mine.size - this.perUser))) mine.delete(id);
  }

  private prune(): void {
    const now = this.now().getTime();
    for (const [user, mine] of this.byUser) {
      for (const [id, e] of mine) if (e.expires <= now) mine.delete(id);
      if (mine.size === 0) this.byUser.delete(user);
    }
  }
}
