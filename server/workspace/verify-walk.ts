// Verification walks: how the hub keeps its change feed complete for changes its agent watcher
// missed (a file written in a just-created folder, a change made while no hub was running).
//
// The hub's view of a workspace is its hash cache: after every listing it holds exactly what was
// listed, and every write, delete and recorded agent change updates it and is announced in the
// feed. A walk that finds the disk differing from that view (a hash other than the one last
// listed or announced, a new file, a file gone) has found a change nobody was told about, and
// announces it through `recordExternal`, exactly as the watcher would have. That is what lets the
// listing answer 304 to a client whose cursor has nothing after it in the feed (http/workspace-routes.ts): the
// client's view at that cursor equalled the listing, the listing equalled this view, and every
// difference found later is announced after that cursor.
import { pathKey } from '../../shared/paths.ts';
import type { Logger } from '../log.ts';

/** What a walk found that the feed was never told. */
export interface Missed {
  /** Files (relative on-disk names) whose hash differs from the last listed or announced one, or that are new. */
  upserts: string[];
  /** Paths the last listing held that are no longer on disk. */
  deletes: string[];
}

/** Walked files against the hash cache's view before the walk (pure). */
export function missedChanges(
  walked: Iterable<{ rel: string; path: string; hash: string; before: string | undefined }>,
  viewBefore: Iterable<string>,
  live: ReadonlySet<string>,
): Missed {
  const upserts: string[] = [];
  for (const f of walked) if (f.before !== f.hash) upserts.push(f.rel);
  const deletes: string[] = [];
  for (const p of viewBefore) if (!live.has(p)) deletes.push(p);
  return { upserts, deletes };
}

/** What the walk needs from the store (FsWorkspaceStore). */
export interface ExternalRecorder {
  /** `prev`: the hash the hub's view held for the path before the walk (what the agent replaced). */
  recordExternal(userId: string, relOnDisk: string, kind: 'upsert' | 'delete', prev?: string): Promise<void>;
}

/**
 * Announces what a walk found. `recordExternal` re-checks each path under the write lock (a
 * file the hub itself just wrote or removed is recognised and not announced twice; a file that
 * came back is not announced as deleted), so a walk racing a write announces nothing wrong.
 */
export async function announceMissed(store: ExternalRecorder, userId: string, missed: Missed, log: Logger, viewBefore?: ReadonlyMap<string, string>): Promise<void> {
  if (missed.upserts.length + missed.deletes.length > 0) {
    log.info({ userId, upserts: missed.upserts.length, deletes: missed.deletes.length }, 'workspace walk found changes the watcher missed; announcing them');
  }
  for (const rel of missed.upserts) await store.recordExternal(userId, rel, 'upsert', viewBefore?.get(pathKey(rel)));
  for (const path of missed.deletes) await store.recordExternal(userId, path, 'delete', viewBefore?.get(path));
}

/**
 * Background verification walks, one user at a time: at most one walk per user in flight and
 * none sooner than `minIntervalMs` after that user's last walk (a listing counts). A request for
 * a walk that comes too soon is not dropped but deferred to the end of the interval, so a change
 * behind the hub's back is always found within about one interval of the next 304.
 */
export class VerifyScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly deferred = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly walk: (userId: string) => Promise<unknown>,
    private readonly lastWalkAt: (userId: string) => number | undefined,
    private readonly log: Logger,
    private readonly minIntervalMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks for a walk of `userId`'s workspace; answers at once. */
  request(userId: string): void {
    if (this.running.has(userId) || this.deferred.has(userId)) return;
    const last = this.lastWalkAt(userId);
    const wait = last === undefined ? 0 : last + this.minIntervalMs - this.now();
    if (wait > 0) {
      const t = setTimeout(() => {
        this.deferred.delete(userId);
        this.request(userId);
      }, wait);
      t.unref();
      this.deferred.set(userId, t);
      return;
    }
    const p = this.walk(userId)
      .then(
        () => undefined,
        (err: unknown) => this.log.warn({ err, userId }, 'verification walk failed'),
      )
      .finally(() => this.running.delete(userId));
    this.running.set(userId, p);
  }

  /** Walks in flight (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }

  close(): void {
    for (const t of this.deferred.values()) clearTimeout(t);
    this.deferred.clear();
  }
}

/** Least time between two walks of one user's workspace after 304 answers. */
export const VERIFY_INTERVAL_MS = 5_000;

/** What a scheduler of the store's walks needs from the store (FsWorkspaceStore). */
export interface Verifiable {
  verify(userId: string): Promise<void>;
  lastWalkAt(userId: string): number | undefined;
}

/**
 * The scheduler of `store`'s verification walks. Whoever makes it stops it (`close()`): the hub
 * (server/main.ts) runs it as a background service; server/app.ts makes one for an app built
 * without one.
 */
export function verifySchedulerFor(store: Verifiable, log: Logger, minIntervalMs = VERIFY_INTERVAL_MS): VerifyScheduler {
  return new VerifyScheduler(
    (u) => store.verify(u),
    (u) => store.lastWalkAt(u),
    log,
    minIntervalMs,
  );
}
