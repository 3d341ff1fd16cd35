// The sync engine behind the tray app and the headless client. It owns no queue: each round is
// derived from the folder, the base and the hub listing, so stopping or crashing loses nothing.
// This file wires the parts together: the round scheduler (scheduler.ts), the feed follower
// (feed-follower.ts), the conflict resolver (conflict-resolver.ts) and the status the shell sees
// (engine-status.ts); it runs the rounds themselves (round.ts, quick-round.ts).
import { EventEmitter, setMaxListeners } from 'node:events';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivityEntry, ConflictInfo, EngineIssue, EngineStatus, KeptVersion, Resolution, RoundSummary, SyncEngineApi } from '../engine-api/types.ts';
import { conflictInfo, ConflictResolver } from './conflict-resolver.ts';
import { StatusBoard } from './engine-status.ts';
import { FeedFollower } from './feed-follower.ts';
import { FolderIgnore } from './folder-ignore.ts';
import { FolderTraitsCache } from './folder-probe.ts';
import { HubClient } from './hub-client.ts';
import { EngineHistory } from './history.ts';
import type { EngineOptions } from './engine-options.ts';
import { runQuickRound, type RemoteHint } from './quick-round.ts';
import { RoundError, toRoundError, type GuardAnswer, type RoundContext, type RoundResult } from './round-context.ts';
import { runRound } from './round.ts';
import { TEMP_SUFFIX } from './scanner.ts';
import { RoundScheduler } from './scheduler.ts';
import { StateLock } from './state-lock.ts';
import { StateStore, type SyncState } from './state.ts';
import { Trash } from './trash.ts';
import { FolderWatcher, type LeftAt } from './watcher.ts';

export type { EngineOptions } from './engine-options.ts';

export class SyncEngine implements SyncEngineApi {
  private readonly events = new EventEmitter();
  private readonly hub: HubClient;
  private readonly store: StateStore;
  private readonly lock: StateLock;
  private readonly trash: Trash;
  private readonly ignore: FolderIgnore;
  private readonly abort = new AbortController();
  private readonly scheduler: RoundScheduler;
  private readonly feed: FeedFollower;
  private readonly conflicts: ConflictResolver;
  private readonly board: StatusBoard;
  private readonly traits: FolderTraitsCache;
  private state: SyncState | undefined;
  private watcher: FolderWatcher | undefined;
  private userId: string | undefined;
  /** Set by confirmDeletes / restoreDeleted for the rounds they run. */
  private guardAnswered: GuardAnswer | undefined;
  readonly history: EngineHistory;
  private tmpDir: string | undefined;
  private initDone: Promise<void> | undefined;

  constructor(private readonly opts: EngineOptions) {
    // Every request and wait in flight (bulk batches, downloads, the feed's long poll, backoff
    // sleeps) listens on this one stop signal and lets go when done; Node warns past 10, which a
    // busy round reaches legitimately. A real leak would still pass 256 and be reported.
    setMaxListeners(256, this.abort.signal);
    this.hub = new HubClient({
      baseUrl: opts.serverUrl,
      apiKey: opts.apiKey,
      device: opts.device,
      signal: this.abort.signal,
      ...(opts.bytesPerSecond ? { bytesPerSecond: opts.bytesPerSecond } : {}),
      onRateLimited: (ms) => this.log(`rate limited by the hub; waiting ${Math.ceil(ms / 1000)} s as asked`),
    });
    this.store = new StateStore(opts.stateDir);
    this.lock = new StateLock(opts.stateDir);
    this.trash = new Trash(join(opts.stateDir, 'trash'));
    this.ignore = new FolderIgnore(opts.folder, opts.ignore ?? [], (line) => this.log(line));
    this.traits = new FolderTraitsCache(opts.folder, opts.platform ?? process.platform, (line) => this.log(line));
    this.conflicts = new ConflictResolver(opts.folder, this.trash, this.store);
    this.scheduler = new RoundScheduler({
      full: () => this.rounds(),
      quick: (local, remote) => this.quickRound(local, remote),
      ready: () => Boolean(this.feed.cursor),
      log: (line) => this.log(line),
    });
    this.feed = new FeedFollower({
      hub: this.hub,
      ignore: this.ignore,
      signal: this.abort.signal,
      waitSeconds: opts.feedWaitSeconds ?? 25,
      base: (key) => this.state?.base[key],
      stopped: () => this.scheduler.stopped,
      paused: () => this.scheduler.paused,
      reset: () => this.scheduler.request(),
      news: (changes) => this.scheduler.requestQuick(undefined, changes),
      log: (line) => this.log(line),
    });
    this.history = new EngineHistory({
      hub: this.hub,
      trash: this.trash,
      folder: opts.folder,
      ensureUser: () => this.ensureUser(),
      // A running engine syncs a restore at once; a one-shot caller runs its own round.
      restored: () => this.scheduler.started && this.scheduler.request(),
    });
    this.board = new StatusBoard({
      events: this.events,
      conflicts: () => (this.state?.conflicts ?? []).map(conflictInfo),
      userId: () => this.userId,
      stopped: () => this.scheduler.stopped,
    });
  }

  on(event: 'status', listener: (s: EngineStatus) => void): () => void;
  on(event: 'activity', listener: (a: ActivityEntry) => void): () => void;
  on(event: 'conflict', listener: (c: ConflictInfo) => void): () => void;
  on(event: 'log', listener: (line: string) => void): () => void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above type each event
  on(event: string, listener: (arg: any) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  private log(line: string): void {
    this.events.emit('log', line);
  }

  private async init(): Promise<void> {
    this.initDone ??= (async () => {
      await mkdir(this.opts.stateDir, { recursive: true });
      const loaded = await this.store.load();
      this.state = loaded.state;
      if (loaded.recovered) this.log(`${loaded.recovered}; starting fresh (merge only, nothing is deleted)`);
      await this.trash.purge();
      this.tmpDir = await sameFsTmp(this.opts.folder, join(this.opts.stateDir, 'tmp'));
      // Temp files of a transfer that a crash interrupted: never complete, never needed.
      for (const name of await readdir(join(this.opts.stateDir, 'tmp')).catch(() => [] as string[])) {
        if (name.endsWith(TEMP_SUFFIX)) await unlink(join(this.opts.stateDir, 'tmp', name)).catch(() => {}); // a leftover that cannot go now goes at the next start
      }
    })();
    return this.initDone;
  }

  async start(): Promise<void> {
    await this.init();
    if (this.opts.live !== false) {
      this.watcher = new FolderWatcher(this.opts.folder, this.ignore, this.opts.debounceMs ?? 300, (paths) =>
        paths ? this.scheduler.requestQuick(paths, undefined) : this.scheduler.request(),
      );
      // Never recreate a folder that held synced files: it may be an unmounted mount point.
      if (Object.keys(this.state!.base).length === 0) await mkdir(this.opts.folder, { recursive: true }).catch(() => {});
      await this.watcher.start().catch((e: Error) => this.log(`watcher unavailable (${e.message}); relying on rescans`));
      this.feed.start();
    }
    this.scheduler.start(this.opts.intervalMs ?? 30_000);
  }

  async stop(): Promise<void> {
    this.scheduler.stop();
    this.abort.abort();
    await this.watcher?.stop();
    await this.scheduler.settled();
    await this.feed.ended();
    await this.lock.release();
    this.board.setPhase('stopped');
  }

  pause(): void {
    this.scheduler.pause();
    this.board.setPhase('paused');
  }

  resume(): void {
    this.scheduler.unpause();
    this.board.setPhase('idle');
    this.scheduler.request();
  }

  /** Ask for a round; rounds never overlap, and a request during one runs another after it. */
  request(): void {
    this.scheduler.request();
  }

  confirmDeletes(): Promise<RoundSummary> {
    return this.guardAnswer('delete');
  }

  restoreDeleted(): Promise<RoundSummary> {
    return this.guardAnswer('restore');
  }

  /** The user's answer to the mass-delete guard, for the rounds of one sync (round.ts `guard`). */
  private async guardAnswer(answer: GuardAnswer): Promise<RoundSummary> {
    // Wait for a round in progress so the answer applies to a fresh plan, not a stale one.
    await this.scheduler.settled();
    this.guardAnswered = answer;
    try {
      return await this.scheduler.syncNow();
    } finally {
      this.guardAnswered = undefined;
    }
  }

  syncNow(): Promise<RoundSummary> {
    return this.scheduler.syncNow();
  }

  /** A quick round for paths the watcher or the feed named (quick-round.ts); any trouble asks for the full round. */
  private async quickRound(local: ReadonlySet<string>, remote: ReadonlyMap<string, RemoteHint>): Promise<{ summary: RoundSummary; needFull: boolean }> {
    const total: RoundSummary = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, converged: false };
    try {
      await this.lock.acquire();
      // Rules that changed apply to every path, not only the named ones: a full round does that.
      if (await this.ignore.refresh()) return { summary: total, needFull: true };
      await this.conflicts.prune(this.state!);
      const r = await runQuickRound(await this.roundContext(), local, remote).finally(() => this.watcher?.settle(this.leftAt));
      Object.assign(total, { uploaded: r.uploaded, downloaded: r.downloaded, deleted: r.deleted, converged: !r.needFull });
      if (!r.needFull) {
        this.board.synced();
        this.board.setPhase('idle');
      }
      return { summary: total, needFull: r.needFull };
    } catch (e) {
      if (this.scheduler.stopped || (e as Error).name === 'AbortError') return { summary: total, needFull: false };
      // Whatever went wrong, the full round decides (and reports) it.
      return { summary: total, needFull: true };
    }
  }

  /** Rounds until one has nothing left to do (converged) or the cap is reached. */
  private async rounds(): Promise<RoundSummary> {
    await this.init();
    await this.lock.acquire();
    const total: RoundSummary = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, converged: false };
    const max = this.opts.maxRounds ?? 6;
    this.board.setPhase('scanning');
    try {
      await this.ensureUser();
      let issues: EngineIssue[] = [];
      for (let i = 0; i < max; i++) {
        let r: RoundResult;
        try {
          r = await this.oneRound();
        } catch (e) {
          throw toRoundError(e);
        }
        total.uploaded += r.uploaded;
        total.downloaded += r.downloaded;
        total.deleted += r.deleted;
        total.conflicts += r.conflicts;
        total.failed = r.failed;
        issues = r.issues;
        this.feed.cursor = r.cursor;
        this.board.pending = r.work;
        const busy = r.uploaded + r.downloaded + r.deleted + r.conflicts > 0;
        if (!busy && !r.again) {
          total.converged = true;
          break;
        }
        if (r.unstable > 0 && !busy) await sleep(300, undefined, { signal: this.abort.signal });
        this.board.setPhase('syncing');
      }
      this.board.issues = issues;
      this.board.pending = 0;
      this.board.synced();
      this.board.setPhase(this.scheduler.paused ? 'paused' : 'idle');
      return total;
    } catch (e) {
      throw this.failed(e);
    }
  }

  /** A round failed: show why (offline or needs the user) and hand the error on. */
  private failed(e: unknown): RoundError {
    this.board.progress = undefined;
    const re = toRoundError(e);
    if (re.name === 'AbortError') return re;
    this.board.issues = [{ code: re.code, message: re.message, ...(re.hint ? { hint: re.hint } : {}), ...(re.deletes ? { deletes: re.deletes } : {}) }];
    this.board.setPhase(re.code === 'network' ? 'offline' : 'error');
    this.log(re.message);
    return re;
  }

  private async ensureUser(): Promise<void> {
    if (this.userId) return;
    const me = await this.hub.me().catch((e: unknown) => {
      throw toRoundError(e);
    });
    const user = this.opts.userId ?? me.user_id;
    if (!user) throw new RoundError('auth', 'this is a service key: name the workspace to sync (--user <id>)');
    this.hub.setUser(user);
    this.userId = user;
  }

  /** Versions the hub kept of a path, newest first (history.ts). */
  listVersions(path: string): Promise<KeptVersion[]> {
    return this.history.listVersions(path);
  }

  /** Puts a kept version back on the hub; the next round brings it here (history.ts). */
  restoreVersion(path: string, versionId: string): Promise<{ path: string; hash: string; size: number }> {
    return this.history.restoreVersion(path, versionId);
  }

  private async oneRound(): Promise<RoundResult> {
    await this.ignore.refresh();
    await this.conflicts.prune(this.state!);
    try {
      return await runRound(await this.roundContext());
    } finally {
      await this.watcher?.settle(this.leftAt);
    }
  }

  /** What a round left at a path, as it recorded it (the stat of its own write), for the watcher. */
  private readonly leftAt: LeftAt = (rel) => {
    const c = this.state?.cache[rel];
    return c ? { size: c.size, mtimeMs: c.mtime_ms, ino: c.ino } : undefined;
  };

  private async roundContext(): Promise<RoundContext> {
    const state = this.state!;
    const traits = await this.traits.get();
    return {
      caseInsensitive: traits.caseInsensitive,
      localOs: this.traits.os,
      folder: this.opts.folder,
      device: this.opts.device,
      hub: this.hub,
      store: this.store,
      state,
      trash: this.trash,
      ignore: this.ignore,
      ...(this.tmpDir ? { tmpDir: this.tmpDir } : {}),
      ...(this.opts.concurrency ? { concurrency: this.opts.concurrency } : {}),
      ...(this.opts.guardThreshold !== undefined ? { guardThreshold: this.opts.guardThreshold } : {}),
      ...(this.guardAnswered ? { guardAnswer: this.guardAnswered } : {}),
      activity: (a) => this.board.activity(a),
      progress: (p) => this.board.setProgress(p),
      conflict: (c) => this.events.emit('conflict', conflictInfo(c)),
      ownWrite: (rel) => this.watcher?.ownWrite(rel),
    };
  }

  status(): EngineStatus {
    return this.board.status();
  }

  recentActivity(): ActivityEntry[] {
    return this.board.recentActivity();
  }

  async listConflicts(): Promise<ConflictInfo[]> {
    await this.init();
    await this.conflicts.prune(this.state!);
    return this.state!.conflicts.map(conflictInfo);
  }

  /**
   * Settle a conflict with local file operations (conflict-resolver.ts); the next round carries
   * them to the hub with the usual preconditions.
   */
  async resolve(path: string, keep: Resolution): Promise<void> {
    await this.init();
    await this.lock.acquire();
    await this.conflicts.resolve(this.state!, path, keep);
  }
}

/** Downloads land in the state dir's tmp when it shares the folder's filesystem (rename must not cross devices). */
async function sameFsTmp(folder: string, tmp: string): Promise<string | undefined> {
  try {
    await mkdir(tmp, { recursive: true });
    let probe = folder;
    // The folder may not exist yet: compare with its nearest existing parent.
    for (;;) {
      const st = await stat(probe).catch(() => undefined); // not there yet: try its parent
      if (st) {
        const t = await stat(tmp);
        return st.dev === t.dev ? tmp : undefined;
      }
      const up = join(probe, '..');
      if (up === probe) return undefined;
      probe = up;
    }
  } catch {
    // no common filesystem found: downloads land beside their target
    return undefined;
  }
}
