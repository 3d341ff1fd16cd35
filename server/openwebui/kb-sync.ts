// The hub's KB sync for every user: one round per user at a time (kb-round.ts runs it), queued
// per user here and behind the cross-instance lock when there is one; status() per file.
import type { WorkspaceStore } from '../workspace/types.ts';
import type { OpenWebUIClient } from './client.ts';
import { kbExclusion } from './exclude.ts';
import { loadKbExclusion } from './kb-ignore-file.ts';
import { runKbRound, type KbRoundOptions } from './kb-round.ts';
import { fileStatuses, statusPage, type StatusQuery } from './kb-status.ts';
import { KbSteps } from './kb-steps.ts';
import type { KbSyncLogger, SyncSummary, UserKbStatus } from './kb-types.ts';
import type { Direction } from './plan.ts';
import type { LastRound } from './state-schema.ts';
import { loadState } from './state.ts';

export interface KbSyncOptions {
  client: OpenWebUIClient;
  store: WorkspaceStore;
  /** KB name is `${prefix}-${userId}`. */
  prefix?: string;
  extensions: readonly string[];
  /** Largest workspace file sent to the KB (RALPH_SYNC_MAX_KB_FILE_BYTES); 0 or absent: no limit. */
  maxFileBytes?: number;
  /** Hub user id -> Open WebUI user id or email. Unmapped users are their own Open WebUI id. */
  userMap?: Readonly<Record<string, string>>;
  /** How long a round waits for one upload's processing before leaving it pending. */
  processTimeoutMs?: number;
  /** Transfers to Open WebUI at once in one round (RALPH_SYNC_CONCURRENCY, default 4). */
  concurrency?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  logger?: KbSyncLogger;
  now?: () => Date;
  /** Cross-instance lock (Redis when several hubs share a volume), so one user's KB sync never runs twice at once. */
  lock?: { run<T>(key: string, fn: () => Promise<T>): Promise<T> };
  /** Times each round; returns the function that records its outcome. */
  onRoundStart?: () => (ok: boolean) => void;
}

/** Paths per status page when the caller does not say (the most it may ask for: STATUS_PAGE_MAX). */
export const STATUS_PAGE_DEFAULT = 1000;
export const STATUS_PAGE_MAX = 5000;

export class KbSync {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The last round asked for per user, until it ends (isRunning). */
  private readonly running = new Map<string, Promise<SyncSummary>>();
  private readonly lastErrors = new Map<string, string>();
  private readonly lastSyncs = new Map<string, string>();
  /** The last round's outcome per user, also when it failed or changed nothing (then it is not in the state file). */
  private readonly lastRounds = new Map<string, LastRound>();
  /** What follows a user's round and holds that user's lock (kb-round.ts `onFinished`). */
  private readonly afterRounds = new Map<string, Promise<unknown>>();
  private readonly prefix: string;
  private readonly now: () => Date;
  /** Carries out the steps; keeps each KB's folder ids between rounds. */
  private readonly steps: KbSteps;

  constructor(private readonly opts: KbSyncOptions) {
    this.prefix = opts.prefix ?? 'workspace';
    this.now = opts.now ?? (() => new Date());
    this.steps = new KbSteps({
      client: opts.client,
      store: opts.store,
      extensions: opts.extensions,
      processTimeoutMs: opts.processTimeoutMs ?? 20_000,
      backoff: { baseMs: opts.retryBaseMs ?? 60_000, capMs: opts.retryCapMs ?? 6 * 3600_000 },
      concurrency: opts.concurrency ?? 4,
      now: this.now,
      logger: opts.logger,
    });
  }

  knowledgeName(userId: string): string {
    return `${this.prefix}-${userId}`;
  }

  /** A round of this user runs or waits (the work after the last one, the description line, aside). */
  isRunning(userId: string): boolean {
    return this.running.has(userId);
  }

  /**
   * Run a round; a second call for the same user waits for the first one to end, then runs.
   * `confirmDeletes`: the user confirmed the deletes the guard held in the last round.
   */
  sync(userId: string, direction: Direction = 'bidirectional', opts: { confirmDeletes?: boolean } = {}): Promise<SyncSummary> {
    const previous = this.locks.get(userId) ?? Promise.resolve();
    let started = this.now();
    const run = previous
      .catch(() => undefined) // the previous round's outcome went to its own caller; this one only waits its turn
      .then(() => {
        started = this.now();
        return this.lockedRound(userId, { direction, confirmDeletes: opts.confirmDeletes === true });
      })
      .then(
        (s) => {
          this.lastErrors.delete(userId);
          return s;
        },
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          this.lastErrors.set(userId, message);
          const finished = this.now();
          this.lastRounds.set(userId, {
            direction,
            started_at: started.toISOString(),
            finished_at: finished.toISOString(),
            duration_ms: finished.getTime() - started.getTime(),
            outcome: 'failed',
            changed: false,
            error: message,
          });
          throw e;
        },
      );
    // The lock never rejects (the caller gets the error from `run`), so nothing goes unhandled.
    // It is held until the work after the round (the description line) is done too, so the
    // user's next round starts after it and two lines are never written out of order.
    const afterwards = (): Promise<unknown> => {
      const after = this.afterRounds.get(userId);
      this.afterRounds.delete(userId);
      return after ?? Promise.resolve();
    };
    const tracked: Promise<void> = run
      .then(afterwards, afterwards)
      .then(
        () => this.release(userId, tracked),
        () => this.release(userId, tracked),
      );
    this.locks.set(userId, tracked);
    this.running.set(userId, run);
    const ran = (): void => {
      if (this.running.get(userId) === run) this.running.delete(userId);
    };
    run.then(ran, ran);
    return run;
  }

  private async lockedRound(userId: string, round: KbRoundOptions): Promise<SyncSummary> {
    const done = this.opts.onRoundStart?.();
    try {
      const summary = await (this.opts.lock
        ? this.opts.lock.run(userId, () => this.round(userId, round))
        : this.round(userId, round));
      done?.(true);
      return summary;
    } catch (e) {
      done?.(false);
      throw e;
    }
  }

  private round(userId: string, round: KbRoundOptions): Promise<SyncSummary> {
    const { client, store, extensions, userMap, logger } = this.opts;
    return runKbRound(
      {
        client,
        store,
        steps: this.steps,
        extensions,
        maxFileBytes: this.opts.maxFileBytes,
        knowledgeName: this.knowledgeName(userId),
        userMap,
        logger,
        now: this.now,
        onFinished: (lastSync, last, after) => {
          this.lastSyncs.set(userId, lastSync);
          this.lastRounds.set(userId, last);
          this.afterRounds.set(userId, after);
        },
      },
      userId,
      round,
    );
  }

  private release(userId: string, lock: Promise<void>): void {
    if (this.locks.get(userId) === lock) this.locks.delete(userId);
  }

  /** Wait for every running round (shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
  }

  /** Every path's KB state (kb-status.ts), one page of it, the counts and the last round. */
  async status(userId: string, query: StatusQuery = { offset: 0, limit: STATUS_PAGE_DEFAULT }): Promise<UserKbStatus> {
    const state = await loadState(this.opts.store.stateDir(userId), userId);
    const { files } = await this.opts.store.list(userId).catch(() => ({ files: [] })); // status works without the listing (a workspace being created): files show from the state alone
    const { maxFileBytes } = this.opts;
    const { exclusion } = await loadKbExclusion(this.opts.store, userId, files, maxFileBytes).catch(() => ({
      exclusion: kbExclusion({ files, youlabignore: [], maxFileBytes }),
    })); // .youlabignore changing while read: this answer goes by the defaults alone, the next one by the file
    const all = fileStatuses({ state, files, exclusion, extensions: this.opts.extensions });
    const err = this.lastErrors.get(userId);
    const lastRound = newer(state.last_round, this.lastRounds.get(userId));
    const guard = Object.values(state.held)[0]?.reason ?? null;
    return {
      knowledge_id: state.knowledge_id,
      knowledge_name: this.knowledgeName(userId),
      last_sync: latest(state.last_sync, this.lastSyncs.get(userId)),
      running: this.isRunning(userId),
      ...(err ? { last_error: err } : {}),
      guard,
      last_round: lastRound,
      ...statusPage(all, query),
    };
  }
}

function newer(a: LastRound | null, b: LastRound | undefined): LastRound | null {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b.finished_at) >= Date.parse(a.finished_at) ? b : a;
}

function latest(a: string | null, b: string | undefined): string | null {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
