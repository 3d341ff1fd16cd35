// The workspace store's foundation (FsWorkspaceStore in fs-store.ts is built on it): the folder
// layout, each user's in-memory state, the change feed, the work in flight and shutdown. Layout
// per user:
//   <data-dir>/<user>/workspace/      the workspace (what clients and the agent see)
//   <data-dir>/<user>/.hub/state/     hub state for other features (stateDir)
//   <data-dir>/<user>/.hub/versions/  replaced and deleted content
//   <data-dir>/<user>/.hub/contents/  a copy of each content the hub announced (contents.ts)
//   <data-dir>/<user>/.hub/tmp/       uploads in flight (same filesystem, outside workspace/)
//   <data-dir>/<user>/.hub/hash-cache.json
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserIdSchema, type Change, type Changes, type FileEntry } from '../../shared/protocol.ts';
import { ChangeJournal, type ChangeFilter, type Journal } from '../coordination/journal.ts';
import { KeyedMutex } from '../coordination/mutex.ts';
import type { Logger } from '../log.ts';
import { StoreError } from '../store-error.ts';
import { ContentStore } from './contents.ts';
import { HashCache } from './hash-cache.ts';
import { VersionStore } from './versions.ts';

export interface FsStoreOptions {
  dataDir: string;
  maxFileBytes: number;
  maxWorkspaceBytes: number;
  versionRetentionDays: number;
  /**
   * Disk budget of one user's version store and content copies, bytes; over it the oldest
   * versions go first (the pruner). 0: none (the retention period alone).
   */
  versionMaxBytes?: number;
  log: Logger;
  /** The change feed; default: in this process. Several instances share a Redis one. */
  journal?: Journal;
  /** The per-user write lock; default: in this process. Several instances share a Redis one. */
  locks?: WriteLock;
  /**
   * The data dir is shared with other hub instances: tmp/ may hold their uploads in flight
   * (only stale temp files are removed), and the agent watcher's dedupe is the shared feed's.
   */
  sharedVolume?: boolean;
  /**
   * From whoever runs the agent watcher (main.ts): false while it has changes of this user in
   * hand. The watcher needs the store, so it is made after it: this may read it lazily. Absent
   * (no watcher): nothing is in hand.
   */
  agentSettled?: (userId: string) => boolean;
}

/** A keyed lock; `lease.assertHeld()` throws when a distributed lock was lost meanwhile. */
export interface WriteLock {
  run<T>(key: string, fn: (lease: { assertHeld(): void }) => Promise<T>): Promise<T>;
}

export interface UserState {
  cache: HashCache;
  versions: VersionStore;
  /** A copy of every content the hub announced, so an agent overwrite still finds the old bytes. */
  contents: ContentStore;
  /** Last content hash the hub recorded per path (null = deleted): lets the watcher skip the hub's own writes. */
  known: Map<string, string | null>;
  /**
   * statKey (size, mtime, inode) of the file the hub last wrote or recorded per path: a watcher
   * event for a file whose lstat still matches is the hub's own doing and is dropped without a lock.
   */
  recorded: Map<string, string>;
  /** Bytes in the workspace; undefined = recount on next use. */
  usage?: number;
  /** Bumped by every write/delete, so a listing that raced one does not overwrite `usage` with a stale count. */
  generation: number;
  saveTimer?: NodeJS.Timeout;
}

/** Temp uploads older than this are leftovers of a crashed instance (an upload in flight keeps touching its file). */
const STALE_TMP_MS = 60 * 60 * 1000;

export class StoreCore {
  readonly journal: Journal;
  readonly locks: WriteLock;
  private readonly listeners = new Set<(userId: string, change: Change) => void>();
  private readonly states = new Map<string, UserState>();
  /** Set by close(): no background work starts after it. */
  private closing = false;
  /** Writes and deletes under way, so shutdown can let them finish (or fail cleanly) first. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(readonly opts: FsStoreOptions) {
    this.journal = opts.journal ?? new ChangeJournal();
    if (opts.locks) {
      this.locks = opts.locks;
    } else {
      const mutex = new KeyedMutex();
      const lease = { assertHeld: () => {} };
      this.locks = { run: (key, fn) => mutex.run(key, () => fn(lease)) };
    }
  }

  get log(): Logger {
    return this.opts.log;
  }

  /** close() has begun: no background work may start. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Counts `p` as work in flight until it settles (close() waits for it). */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = (): void => {
      this.inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  /** Another instance changed this user's workspace: the cached usage may be stale. */
  forgetUsage(userId: string): void {
    const s = this.states.get(userId);
    if (s) s.usage = undefined;
  }

  // ---- layout -------------------------------------------------------------------------

  userDir(userId: string): string {
    const u = UserIdSchema.safeParse(userId);
    if (!u.success) throw new StoreError('bad_path', 'invalid user id');
    return join(this.opts.dataDir, u.data);
  }
  workspaceDir(userId: string): string {
    return join(this.userDir(userId), 'workspace');
  }
  private hubDir(userId: string): string {
    return join(this.userDir(userId), '.hub');
  }
  stateDir(userId: string): string {
    return join(this.hubDir(userId), 'state');
  }
  tmpDir(userId: string): string {
    return join(this.hubDir(userId), 'tmp');
  }

  // ---- per-user state -----------------------------------------------------------------

  /** The user's state, made (folders created, leftover uploads removed) on first use. */
  async state(userId: string): Promise<UserState> {
    let s = this.states.get(userId);
    if (!s) {
      const hub = this.hubDir(userId);
      s = {
        // tmp/ holds uploads only (cleared at start); bookkeeping files use their own folders for temp files.
        cache: new HashCache(join(hub, 'hash-cache.json'), hub),
        versions: new VersionStore(join(hub, 'versions'), join(hub, 'versions')),
        contents: new ContentStore(join(hub, 'contents')),
        known: new Map(),
        recorded: new Map(),
        generation: 0,
      };
      this.states.set(userId, s);
      if (this.opts.sharedVolume) {
        // Other instances may be uploading into tmp/ right now: remove only what is stale.
        await removeStaleTemps(this.tmpDir(userId), Date.now() - STALE_TMP_MS);
      } else {
        // Uploads cut off by a crash leave temp files; none can be in flight before this point.
        await rm(this.tmpDir(userId), { recursive: true, force: true });
      }
      await mkdir(this.tmpDir(userId), { recursive: true });
      await mkdir(this.workspaceDir(userId), { recursive: true });
      await mkdir(this.stateDir(userId), { recursive: true });
    }
    await s.cache.load();
    return s;
  }

  /** The user's state if this instance has made it already (never creates anything). */
  loadedState(userId: string): UserState | undefined {
    return this.states.get(userId);
  }

  async users(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.opts.dataDir, { withFileTypes: true });
    } catch {
      // no data dir yet: no users
      return [];
    }
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !UserIdSchema.safeParse(e.name).success) continue;
      const ws = await lstat(join(this.opts.dataDir, e.name, 'workspace')).catch(() => undefined); // no workspace folder: not a user
      if (ws?.isDirectory()) out.push(e.name);
    }
    return out.sort();
  }

  scheduleSave(s: UserState): void {
    if (s.saveTimer) return;
    s.saveTimer = setTimeout(() => {
      s.saveTimer = undefined;
      s.cache.save().catch((err: unknown) => this.opts.log.warn({ err }, 'hash cache not saved'));
    }, 2000);
    s.saveTimer.unref();
  }

  // ---- change feed --------------------------------------------------------------------

  onChange(listener: (userId: string, change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces a change; false when `dedupe` found the feed already holding it. */
  async emit(userId: string, change: Change, dedupe = false): Promise<boolean> {
    change = withOrigin(change);
    if ((await this.journal.append(userId, change, { dedupe })) === false) return false;
    for (const l of this.listeners) {
      try {
        l(userId, change);
      } catch (err) {
        this.opts.log.error({ err }, 'change listener failed');
      }
    }
    return true;
  }

  changes(userId: string, since: unknown, waitMs: number, signal?: AbortSignal, filter?: ChangeFilter): Promise<Changes> {
    this.userDir(userId);
    return this.journal.wait(userId, since, waitMs, signal, filter);
  }

  // ---- shutdown -----------------------------------------------------------------------

  /**
   * Shutdown: pending long polls answer, writes and deletes under way finish or fail (an aborted
   * upload removes its temp file; a rename is atomic, so no partial file is ever visible).
   */
  async close(drainMs = 10_000): Promise<void> {
    this.closing = true;
    await this.journal.close();
    if (this.inflight.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise((r) => {
          timer = setTimeout(r, drainMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
    for (const s of this.states.values()) {
      if (s.saveTimer) clearTimeout(s.saveTimer);
      s.saveTimer = undefined;
      await s.cache.save().catch(() => {}); // shutdown: the cache is only an accelerator, a lost save costs a re-hash
    }
  }
}

/** Every feed entry says who made it: the hub's own sources name themselves when the writer did not. */
export function withOrigin(change: Change): Change {
  if (change.origin !== undefined) return change;
  if (change.source === 'agent' || change.source === 'openwebui') return { ...change, origin: change.source };
  return change;
}

/** A listing entry for a file of known hash and stat. */
export function entry(path: string, hash: string, st: Stats): FileEntry {
  return { path, hash, size: st.size, modified: st.mtime.toISOString() };
}

async function removeStaleTemps(dir: string, olderThanMs: number): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) { // no tmp folder: nothing to clean
    const abs = join(dir, name);
    const st = await lstat(abs).catch(() => undefined); // gone meanwhile: nothing to clean
    if (st && st.mtimeMs < olderThanMs) await rm(abs, { recursive: true, force: true }).catch(() => {}); // another instance may be removing it too; a leftover is removed at the next start
  }
}
