// The sync engine behind the tray app and the headless client. It owns no queue: each round is
// derived from the folder, the base and the hub listing, so stopping or crashing loses nothing.
// Rounds run one at a time; the watcher, the change feed, the interval timer and the shell all
// just ask for a round.
import { EventEmitter, setMaxListeners } from 'node:events';
import { lstat, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIgnore, type IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { pathKey } from '../../shared/paths.ts';
import { Backoff } from './backoff.ts';
import { HubClient, HubError, type HubVersion } from './hub-client.ts';
import { QUICK_MAX_PATHS, runQuickRound, type RemoteHint } from './quick-round.ts';
import { RoundError, runRound, type RoundContext, type RoundResult } from './round.ts';
import { TEMP_SUFFIX } from './scanner.ts';
import { StateLock, StateDirBusyError } from './state-lock.ts';
import { StateStore, type ConflictRecord, type SyncState } from './state.ts';
import { Trash } from './trash.ts';
import type {
  ActivityEntry,
  ConflictInfo,
  EngineIssue,
  EnginePhase,
  EngineProgress,
  EngineStatus,
  Resolution,
  RoundSummary,
  SyncEngineApi,
} from './types.ts';
import { FolderWatcher, type LeftAt } from './watcher.ts';

export interface EngineOptions {
  serverUrl: string;
  apiKey: string;
  folder: string;
  stateDir: string;
  device: string;
  ignore?: readonly string[];
  /** Safety-net rescan interval (default 30 s). */
  intervalMs?: number;
  /** Watcher debounce (default 300 ms). */
  debounceMs?: number;
  /** Watch the folder and follow the hub's change feed (default true; false for one-shot use). */
  live?: boolean;
  concurrency?: number;
  /** Bandwidth cap for transfers, bytes per second. */
  bytesPerSecond?: number;
  /** Rounds per sync before giving up on convergence (default 6). */
  maxRounds?: number;
  guardThreshold?: number;
  /** Long-poll wait on the change feed, seconds (default 25). */
  feedWaitSeconds?: number;
  /** Whose workspace to sync; default: the key's own user (GET /me). A service key must name one. */
  userId?: string;
}

export class SyncEngine implements SyncEngineApi {
  private readonly events = new EventEmitter();
  private readonly hub: HubClient;
  private readonly store: StateStore;
  private readonly lock: StateLock;
  private readonly trash: Trash;
  private readonly ignore: IgnoreMatcher;
  private state: SyncState | undefined;
  private readonly abort = new AbortController();
  private watcher: FolderWatcher | undefined;
  private phase: EnginePhase = 'idle';
  private issues: EngineIssue[] = [];
  private activityLog: ActivityEntry[] = [];
  private lastSyncAt: string | undefined;
  private userId: string | undefined;
  private pending = 0;
  /** Set by confirmDeletes for the rounds it runs. */
  private allowMassDelete = false;
  /** Transfers of the running round; undefined between rounds. */
  private progress: EngineProgress | undefined;
  private tmpDir: string | undefined;
  private running: Promise<RoundSummary> | undefined;
  private wanted = false;
  private paused = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private intervalTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();
  private cursor: string | undefined;
  private feedLoop: Promise<void> | undefined;
  private initDone: Promise<void> | undefined;
  /** Paths named by the watcher / the feed since the last round, for a quick round (quick-round.ts). */
  private quickLocal = new Set<string>();
  private quickRemote = new Map<string, RemoteHint>();

  constructor(private readonly opts: EngineOptions) {
    // Every request and wait in flight (bulk batches, downloads, the feed's long poll, backoff
    // sleeps) listens on this one stop signal and lets go when done; Node warns past 10, which a
    // busy round reaches legitimately. A real leak would still pass 256 and be reported.
    setMaxListeners(256, this.abort.signal);
    this.hub = new HubClient({
      baseUrl: opts.serverUrl,
      apiKey: opts.apiKey,
      signal: this.abort.signal,
      ...(opts.bytesPerSecond ? { bytesPerSecond: opts.bytesPerSecond } : {}),
      onRateLimited: (ms) => this.log(`rate limited by the hub; waiting ${Math.ceil(ms / 1000)} s as asked`),
    });
    this.store = new StateStore(opts.stateDir);
    this.lock = new StateLock(opts.stateDir);
    this.trash = new Trash(join(opts.stateDir, 'trash'));
    this.ignore = createIgnore(opts.ignore ?? []);
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
        if (name.endsWith(TEMP_SUFFIX)) await unlink(join(this.opts.stateDir, 'tmp', name)).catch(() => {});
      }
    })();
    return this.initDone;
  }

  async start(): Promise<void> {
    await this.init();
    if (this.opts.live !== false) {
      this.watcher = new FolderWatcher(this.opts.folder, this.ignore, this.opts.debounceMs ?? 300, (paths) =>
        paths ? this.requestQuick(paths, undefined) : this.request(),
      );
      // Never recreate a folder that held synced files: it may be an unmounted mount point.
      if (Object.keys(this.state!.base).length === 0) await mkdir(this.opts.folder, { recursive: true }).catch(() => {});
      await this.watcher.start().catch((e: Error) => this.log(`watcher unavailable (${e.message}); relying on rescans`));
      this.feedLoop = this.followFeed();
    }
    this.intervalTimer = setInterval(() => this.request(), this.opts.intervalMs ?? 30_000);
    this.request();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.intervalTimer);
    this.abort.abort();
    await this.watcher?.stop();
    await this.running?.catch(() => {});
    await this.feedLoop?.catch(() => {});
    await this.lock.release();
    this.setPhase('stopped');
  }

  pause(): void {
    this.paused = true;
    this.setPhase('paused');
  }

  resume(): void {
    this.paused = false;
    this.setPhase('idle');
    this.request();
  }

  /** Ask for a round; rounds never overlap, and a request during one runs another after it. */
  request(): void {
    if (this.stopped) return;
    if (this.paused) return;
    if (this.running) {
      this.wanted = true;
      return;
    }
    clearTimeout(this.retryTimer);
    this.syncNow().then(
      () => this.backoff.reset(),
      (e: unknown) => this.scheduleRetry(e),
    );
  }

  private scheduleRetry(e: unknown): void {
    if (this.stopped || (e as Error).name === 'AbortError') return;
    const slow = e instanceof RoundError && e.code !== 'network';
    // Problems that need the user are retried slowly; network trouble with backoff and jitter.
    const delay = slow ? 5 * 60_000 : this.backoff.next();
    this.log(`next attempt in ${Math.round(delay / 1000)} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.request(), delay);
  }

  async confirmDeletes(): Promise<RoundSummary> {
    // Wait for a round in progress so the confirmation applies to a fresh plan, not a stale one.
    await this.running?.catch(() => {});
    this.allowMassDelete = true;
    try {
      return await this.syncNow();
    } finally {
      this.allowMassDelete = false;
    }
  }

  async syncNow(): Promise<RoundSummary> {
    if (this.running) {
      this.wanted = true;
      await this.running.catch(() => {});
      if (this.running) return this.running;
    }
    // A full round sees every path: what was waiting for a quick round is covered by it.
    this.quickLocal.clear();
    this.quickRemote.clear();
    this.running = this.rounds().finally(() => this.afterRun());
    return this.running;
  }

  private afterRun(): void {
    this.running = undefined;
    if (this.stopped || this.paused) return;
    if (this.wanted) {
      this.wanted = false;
      setImmediate(() => this.request());
    } else if (this.quickLocal.size > 0 || this.quickRemote.size > 0) {
      setImmediate(() => this.requestQuick(undefined, undefined));
    }
  }

  /**
   * A few files changed (watcher) or were announced (feed): reconcile just those, unless the
   * engine has not completed a full round yet. The full round stays the safety net: the quick
   * round asks for it whenever its answer is not simple.
   */
  private requestQuick(local: ReadonlySet<string> | undefined, remote: readonly { path: string; hash: string | null; size?: number; modified?: string }[] | undefined): void {
    if (this.stopped || this.paused) return;
    for (const p of local ?? []) this.quickLocal.add(p);
    for (const c of remote ?? []) this.quickRemote.set(pathKey(c.path), { hash: c.hash, ...(c.size !== undefined ? { size: c.size } : {}), ...(c.modified ? { modified: c.modified } : {}) });
    if (this.running) return;
    if (!this.cursor || this.quickLocal.size + this.quickRemote.size > QUICK_MAX_PATHS) {
      this.request();
      return;
    }
    const local2 = this.quickLocal;
    const remote2 = this.quickRemote;
    this.quickLocal = new Set();
    this.quickRemote = new Map();
    this.running = this.quickRound(local2, remote2).finally(() => this.afterRun());
    this.running.catch(() => {});
  }

  private async quickRound(local: ReadonlySet<string>, remote: ReadonlyMap<string, RemoteHint>): Promise<RoundSummary> {
    const total: RoundSummary = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, converged: false };
    try {
      await this.lock.acquire();
      await this.pruneConflicts();
      const r = await runQuickRound(this.roundContext(), local, remote).finally(() => this.watcher?.settle(this.leftAt));
      Object.assign(total, { uploaded: r.uploaded, downloaded: r.downloaded, deleted: r.deleted, converged: !r.needFull });
      if (r.needFull) this.wanted = true;
      else {
        this.lastSyncAt = new Date().toISOString();
        this.progress = undefined;
        this.setPhase('idle');
      }
    } catch (e) {
      if (this.stopped || (e as Error).name === 'AbortError') return total;
      // Whatever went wrong, the full round decides (and reports) it.
      this.wanted = true;
    }
    return total;
  }

  /** Rounds until one has nothing left to do (converged) or the cap is reached. */
  private async rounds(): Promise<RoundSummary> {
    await this.init();
    await this.lock.acquire();
    const total: RoundSummary = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, converged: false };
    const max = this.opts.maxRounds ?? 6;
    this.setPhase('scanning');
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
        this.cursor = r.cursor;
        this.pending = r.work;
        const busy = r.uploaded + r.downloaded + r.deleted + r.conflicts > 0;
        if (!busy && !r.again) {
          total.converged = true;
          break;
        }
        if (r.unstable > 0 && !busy) await sleep(300, undefined, { signal: this.abort.signal });
        this.setPhase('syncing');
      }
      this.issues = issues;
      this.pending = 0;
      this.progress = undefined;
      this.lastSyncAt = new Date().toISOString();
      this.setPhase(this.paused ? 'paused' : 'idle');
      return total;
    } catch (e) {
      this.progress = undefined;
      const re = toRoundError(e);
      if (re.name === 'AbortError') throw re;
      this.issues = [{ code: re.code, message: re.message, ...(re.hint ? { hint: re.hint } : {}) }];
      this.setPhase(re.code === 'network' ? 'offline' : 'error');
      this.log(re.message);
      throw re;
    }
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

  /** Versions the hub kept of a path (replaced or deleted content), newest first. */
  async listVersions(path: string): Promise<HubVersion[]> {
    await this.ensureUser();
    return this.hub.versions(pathKey(path)).catch((e: unknown) => {
      throw toRoundError(e);
    });
  }

  /**
   * Puts a kept version back on the hub. It reaches this folder (and every other replica) like
   * any hub change: the next round downloads it, keeping the replaced local bytes in the trash.
   */
  async restoreVersion(path: string, versionId: string): Promise<{ path: string; hash: string; size: number }> {
    await this.ensureUser();
    const r = await this.hub.restore(pathKey(path), versionId).catch((e: unknown) => {
      throw toRoundError(e);
    });
    // A running engine syncs it at once; a one-shot caller runs its own round.
    if (this.intervalTimer) this.request();
    return { path: r.path, hash: r.hash, size: r.size };
  }

  private async oneRound(): Promise<RoundResult> {
    await this.pruneConflicts();
    try {
      return await runRound(this.roundContext());
    } finally {
      await this.watcher?.settle(this.leftAt);
    }
  }

  /** What a round left at a path, as it recorded it (the stat of its own write), for the watcher. */
  private readonly leftAt: LeftAt = (rel) => {
    const c = this.state?.cache[rel];
    return c ? { size: c.size, mtimeMs: c.mtimeMs, ino: c.ino } : undefined;
  };

  private roundContext(): RoundContext {
    const state = this.state!;
    return {
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
        ...(this.allowMassDelete ? { allowMassDelete: true } : {}),
        activity: (a) => {
          this.activityLog = [a, ...this.activityLog].slice(0, 200);
          this.events.emit('activity', a);
          this.setPhase('syncing');
        },
        progress: (p) => {
          this.progress = p.filesDone < p.filesTotal ? p : undefined;
          this.events.emit('status', this.status());
        },
        conflict: (c) => this.events.emit('conflict', c satisfies ConflictInfo),
        ownWrite: (rel) => this.watcher?.ownWrite(rel),
    };
  }

  /** A conflict whose copy the user removed or renamed is settled. */
  private async pruneConflicts(): Promise<void> {
    const state = this.state!;
    const keep: ConflictRecord[] = [];
    for (const c of state.conflicts) {
      if (await exists(join(this.opts.folder, c.copyPath))) keep.push(c);
    }
    state.conflicts = keep;
  }

  private async followFeed(): Promise<void> {
    const backoff = new Backoff();
    while (!this.stopped) {
      if (!this.cursor || this.paused) {
        await sleep(500, undefined, { signal: this.abort.signal }).catch(() => {});
        continue;
      }
      try {
        const since = this.cursor;
        const res = await this.hub.changes(since, this.opts.feedWaitSeconds ?? 25, this.abort.signal);
        backoff.reset();
        if (this.cursor === since) this.cursor = res.cursor;
        const news = res.changes.filter((c) => {
          const key = pathKey(c.path);
          if (this.ignore.ignores(key)) return false;
          return (c.hash ?? undefined) !== this.state?.base[key];
        });
        if (res.reset) this.request();
        else if (news.length > 0) this.requestQuick(undefined, news);
      } catch (e) {
        if (this.stopped || (e as Error).name === 'AbortError') return;
        if (e instanceof HubError && (e.kind === 'not_found' || e.kind === 'protocol')) {
          this.log('the hub has no change feed; relying on rescans');
          return;
        }
        await sleep(backoff.next(), undefined, { signal: this.abort.signal }).catch(() => {});
      }
    }
  }

  status(): EngineStatus {
    return {
      phase: this.phase,
      pending: this.pending,
      ...(this.progress ? { progress: { ...this.progress } } : {}),
      conflicts: [...(this.state?.conflicts ?? [])],
      issues: [...this.issues],
      ...(this.lastSyncAt ? { lastSyncAt: this.lastSyncAt } : {}),
      ...(this.userId ? { userId: this.userId } : {}),
    };
  }

  private setPhase(p: EnginePhase): void {
    if (this.stopped && p !== 'stopped') return;
    const changed = p !== this.phase;
    this.phase = p;
    if (changed) this.events.emit('status', this.status());
  }

  recentActivity(): ActivityEntry[] {
    return [...this.activityLog];
  }

  async listConflicts(): Promise<ConflictInfo[]> {
    await this.init();
    await this.pruneConflicts();
    return [...this.state!.conflicts];
  }

  /**
   * Settle a conflict with local file operations; the next round carries them to the hub with
   * the usual preconditions. mine: the copy's bytes replace the path (the hub's version stays in
   * its version store, the local one in the trash); theirs: the copy goes to the trash; both: keep both.
   */
  async resolve(path: string, keep: Resolution): Promise<void> {
    await this.init();
    await this.lock.acquire();
    const key = pathKey(path);
    const state = this.state!;
    const c = state.conflicts.find((x) => x.path === key || x.copyPath === key);
    if (!c) throw new Error(`no conflict recorded for ${path} (see: youlab-sync conflicts)`);
    const copyAbs = join(this.opts.folder, c.copyPath);
    const pathAbs = join(this.opts.folder, c.path);
    if (keep === 'mine') {
      if (await exists(pathAbs)) await this.trash.keepCopy(pathAbs, c.path);
      await rename(copyAbs, pathAbs);
    } else if (keep === 'theirs') {
      await this.trash.moveIn(copyAbs, c.copyPath);
    }
    state.conflicts = state.conflicts.filter((x) => x !== c);
    await this.store.save(state);
  }
}

function toRoundError(e: unknown): RoundError {
  if (e instanceof RoundError) return e;
  if (e instanceof StateDirBusyError) return new RoundError('internal', e.message);
  if ((e as Error)?.name === 'AbortError') return Object.assign(new RoundError('internal', 'stopped'), { name: 'AbortError' });
  if (e instanceof HubError) {
    switch (e.kind) {
      case 'auth':
        return new RoundError('auth', `the hub refused the API key (401): ${e.message}`, 'Check the key (youlab-sync login or YOULAB_API_KEY).');
      case 'forbidden':
        return new RoundError('auth', `the key may not use this workspace (403): ${e.message}`, 'Use a key of the workspace owner.');
      case 'network':
      case 'server':
        return new RoundError('network', e.message, 'The client keeps retrying with backoff.');
      case 'rate_limited':
        return new RoundError('rate_limited', `the hub keeps rate-limiting this client: ${e.message}`);
      case 'quota':
        return new RoundError('quota', e.message);
      default:
        return new RoundError('internal', `${e.kind}: ${e.message}`);
    }
  }
  const err = e as Error;
  return new RoundError('internal', err?.message ?? String(e));
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** Downloads land in the state dir's tmp when it shares the folder's filesystem (rename must not cross devices). */
async function sameFsTmp(folder: string, tmp: string): Promise<string | undefined> {
  try {
    await mkdir(tmp, { recursive: true });
    let probe = folder;
    // The folder may not exist yet: compare with its nearest existing parent.
    for (;;) {
      const st = await stat(probe).catch(() => undefined);
      if (st) {
        const t = await stat(tmp);
        return st.dev === t.dev ? tmp : undefined;
      }
      const up = join(probe, '..');
      if (up === probe) return undefined;
      probe = up;
    }
  } catch {
    return undefined;
  }
}
