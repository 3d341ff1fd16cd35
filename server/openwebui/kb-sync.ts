// The hub's KB sync for every user: one round per user at a time (kb-round.ts runs it), queued
// per user here and behind the cross-instance lock when there is one; status() per file.
import type { WorkspaceStore } from '../workspace/types.ts';
import type { OpenWebUIClient } from './client.ts';
import { kbExclusion } from './exclude.ts';
import { loadKbExclusion } from './kb-ignore-file.ts';
import { runKbRound } from './kb-round.ts';
import { KbSteps } from './kb-steps.ts';
import type { FileStatus, KbSyncLogger, SyncSummary, UserKbStatus } from './kb-types.ts';
import { extensionAllowed, type Direction } from './plan.ts';
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

export class KbSync {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly lastErrors = new Map<string, string>();
  private readonly lastSyncs = new Map<string, string>();
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

  isRunning(userId: string): boolean {
    return this.locks.has(userId);
  }

  /** Run a round; a second call for the same user waits for the first one to end, then runs. */
  sync(userId: string, direction: Direction = 'bidirectional'): Promise<SyncSummary> {
    const previous = this.locks.get(userId) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined) // the previous round's outcome went to its own caller; this one only waits its turn
      .then(() => this.lockedRound(userId, direction))
      .then(
        (s) => {
          this.lastErrors.delete(userId);
          return s;
        },
        (e: unknown) => {
          this.lastErrors.set(userId, e instanceof Error ? e.message : String(e));
          throw e;
        },
      );
    // The lock never rejects (the caller gets the error from `run`), so nothing goes unhandled.
    const tracked: Promise<void> = run.then(
      () => this.release(userId, tracked),
      () => this.release(userId, tracked),
    );
    this.locks.set(userId, tracked);
    return run;
  }

  private async lockedRound(userId: string, direction: Direction): Promise<SyncSummary> {
    const done = this.opts.onRoundStart?.();
    try {
      const summary = await (this.opts.lock
        ? this.opts.lock.run(userId, () => this.round(userId, direction))
        : this.round(userId, direction));
      done?.(true);
      return summary;
    } catch (e) {
      done?.(false);
      throw e;
    }
  }

  private round(userId: string, direction: Direction): Promise<SyncSummary> {
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
        onFinished: (lastSync) => this.lastSyncs.set(userId, lastSync),
      },
      userId,
      direction,
    );
  }

  private release(userId: string, lock: Promise<void>): void {
    if (this.locks.get(userId) === lock) this.locks.delete(userId);
  }

  /** Wait for every running round (shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
  }

  async status(userId: string): Promise<UserKbStatus> {
    const state = await loadState(this.opts.store.stateDir(userId), userId);
    const { files } = await this.opts.store.list(userId).catch(() => ({ files: [] })); // status works without the listing (a workspace being created): files show from the state alone
    const { maxFileBytes } = this.opts;
    const { exclusion } = await loadKbExclusion(this.opts.store, userId, files, maxFileBytes).catch(() => ({
      exclusion: kbExclusion({ files, youlabignore: [], maxFileBytes }),
    })); // .youlabignore changing while read: this answer goes by the defaults alone, the next one by the file
    const out: FileStatus[] = [];
    for (const f of files) {
      const base = state.files[f.path];
      const failure = state.failures[f.path];
      const pending = state.pending[f.path];
      const rule = exclusion.ruleFor(f.path);
      if (rule !== undefined) {
        out.push({ path: f.path, state: 'ignored', hash: f.hash, rule });
      } else if (base && base.hash === f.hash) {
        out.push({ path: f.path, state: 'synced', hash: f.hash, openwebui_file_id: base.openwebui_file_id });
      } else if (failure && failure.side === 'to_openwebui' && failure.hash === f.hash) {
        out.push({
          path: f.path,
          state: 'failed',
          hash: f.hash,
          reason: failure.reason,
          message: failure.message,
          next_retry_at: failure.next_retry_at,
        });
      } else if (!extensionAllowed(f.path, this.opts.extensions)) {
        out.push({ path: f.path, state: 'skipped', hash: f.hash, reason: 'unsupported_type' });
      } else if (pending && pending.hash === f.hash) {
        out.push({ path: f.path, state: 'pending', hash: f.hash, reason: 'processing', openwebui_file_id: pending.openwebui_file_id });
      } else {
        out.push({ path: f.path, state: 'pending', hash: f.hash });
      }
    }
    const listed = new Set(out.map((f) => f.path));
    for (const [path, f] of Object.entries(state.failures)) {
      if (f.side !== 'from_openwebui' || listed.has(path)) continue;
      out.push({ path, state: 'failed', hash: f.hash, reason: f.reason, message: f.message, next_retry_at: f.next_retry_at });
    }
    const err = this.lastErrors.get(userId);
    return {
      knowledge_id: state.knowledge_id,
      knowledge_name: this.knowledgeName(userId),
      last_sync: latest(state.last_sync, this.lastSyncs.get(userId)),
      running: this.isRunning(userId),
      ...(err ? { last_error: err } : {}),
      files: out.sort((a, b) => a.path.localeCompare(b.path)),
    };
  }
}

function latest(a: string | null, b: string | undefined): string | null {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
