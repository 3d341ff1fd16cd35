// Notices files another process (Ralph's agent) writes straight into `<data>/<user>/workspace`
// and feeds them to the store, which announces them in the change feed. One chokidar watcher
// on the data dir covers users created later.
// The hub's own writes land in the same folder (a bulk first sync: thousands of renames), so an
// event for a file whose lstat (inode, size, mtime) is exactly what the store last wrote or
// recorded there is dropped at once: one lstat, no lock, no hash. Any other file is recorded
// once its size and mtime held still for `stabilityMs`, so a slowly written file is not
// recorded half-written (our own check rather than chokidar's awaitWriteFinish, which would
// poll every hub-written file too).
// Parts: `StabilityPoller` (files wait until they hold still), `NewFolderWalker` (new folders are
// walked, young ones re-checked), `UserWork` (what each user has in hand), and the event wiring
// in `watchAgentWrites`.
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { UserIdSchema } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import type { FsWorkspaceStore } from './fs-store.ts';

export interface AgentWatcher {
  ready: Promise<void>;
  /**
   * Nothing seen for this user is still on its way to the feed: no file waiting to hold still,
   * no new folder waiting to be walked, no change being recorded. A conditional listing may only
   * answer 304 when this holds (listing.ts `unchangedSince`).
   */
  settled(userId: string): boolean;
  close(): Promise<void>;
}

/** `<user>/workspace/<rel>` -> {user, rel}; anything else (hub state, keys) -> undefined. */
export function classify(dataDir: string, abs: string): { user: string; rel: string | undefined } | 'outside' | 'ignore' {
  const rel = relative(dataDir, abs);
  if (rel === '') return 'outside';
  if (rel.startsWith('..')) return 'ignore';
  const parts = rel.split(sep);
  const user = parts[0]!;
  if (!UserIdSchema.safeParse(user).success) return 'ignore';
  if (parts.length === 1) return { user, rel: undefined };
  if (parts[1] !== 'workspace') return 'ignore';
  return { user, rel: parts.length > 2 ? parts.slice(2).join('/') : undefined };
}

/** The part of the watcher the store must answer: is this file the hub's own, and record it. */
export type WatchedStore = Pick<FsWorkspaceStore, 'isOwnFile' | 'recordExternal'>;

interface Waiting {
  user: string;
  rel: string;
  size: number;
  mtimeMs: number;
  /** When size and mtime were last seen to change (or first seen). */
  since: number;
}

export interface AgentWatchOptions {
  /** How long a file's size and mtime must hold still before it is recorded. */
  stabilityMs?: number;
  /** Quiet time after a new folder appears before it is walked. */
  settleMs?: number;
  /** How often waiting files are looked at. */
  pollMs?: number;
  /** For how long after it appears a folder's mtime is re-checked for entries chokidar missed. */
  youngMs?: number;
  /** How often young folders are re-checked. */
  recheckMs?: number;
  /** chokidar's `watch` (tests wrap it to reproduce the races it has). */
  watch?: typeof watch;
}

/** What the watcher's parts share. */
interface WatchContext {
  store: WatchedStore;
  dataDir: string;
  log: Logger;
  work: UserWork;
  isClosed(): boolean;
  /** Hands a change to the store (nothing once the watcher is closed). */
  record(user: string, rel: string, kind: 'upsert' | 'delete'): void;
}

/** The user whose workspace holds `abs`, if any. */
function userAt(dataDir: string, abs: string): string | undefined {
  const c = classify(dataDir, abs);
  return typeof c === 'object' ? c.user : undefined;
}

/** Runs `tick` every `ms` while `busy()` holds, one tick at a time; `kick` when work arrives. */
class PollLoop {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly busy: () => boolean,
    private readonly tick: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  kick(): void {
    if (this.timer || !this.busy()) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch(this.onError)
        .finally(() => {
          this.timer = undefined;
          this.kick();
        });
    }, this.ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Per user: events being looked at, changes being recorded, folders being walked. */
class UserWork {
  private readonly busy = new Map<string, number>();

  constructor(private readonly dataDir: string) {}

  track<T>(user: string, p: Promise<T>): Promise<T> {
    this.busy.set(user, (this.busy.get(user) ?? 0) + 1);
    const done = (): void => {
      const n = (this.busy.get(user) ?? 1) - 1;
      if (n <= 0) this.busy.delete(user);
      else this.busy.set(user, n);
    };
    p.then(done, done);
    return p;
  }

  /** `track` for the user whose workspace holds `abs` (anything else is nobody's). */
  trackAt<T>(abs: string, p: Promise<T>): Promise<T> {
    const user = userAt(this.dataDir, abs);
    return user === undefined ? p : this.track(user, p);
  }

  has(user: string): boolean {
    return this.busy.has(user);
  }
}

/** Stability: files not written by the hub wait until size and mtime hold still. */
class StabilityPoller {
  private readonly waiting = new Map<string, Waiting>();
  private readonly poll: PollLoop;

  constructor(
    private readonly ctx: WatchContext,
    private readonly stabilityMs: number,
    pollMs: number,
  ) {
    this.poll = new PollLoop(pollMs, () => !ctx.isClosed() && this.waiting.size > 0, () => this.tick(), (err) => ctx.log.warn({ err }, 'agent watcher poll failed'));
  }

  /** An add/change (or a file found by a rescan): dropped if it is the hub's own, else awaited. */
  async consider(abs: string, known?: Stats): Promise<void> {
    const c = classify(this.ctx.dataDir, abs);
    if (typeof c !== 'object' || !c.rel) return;
    const st = known ?? (await lstat(abs).catch(() => undefined)); // gone meanwhile: its unlink event reports it
    if (!st?.isFile()) return; // symlinks and folders are never recorded; a vanished file has its unlink
    if (this.ctx.store.isOwnFile(c.user, c.rel, st)) return;
    const w = this.waiting.get(abs);
    if (w) {
      if (w.size !== st.size || w.mtimeMs !== st.mtimeMs) Object.assign(w, { size: st.size, mtimeMs: st.mtimeMs, since: Date.now() });
    } else {
      this.waiting.set(abs, { user: c.user, rel: c.rel, size: st.size, mtimeMs: st.mtimeMs, since: Date.now() });
    }
    this.poll.kick();
  }

  /** The file is gone (its unlink is recorded instead). */
  forget(abs: string): void {
    this.waiting.delete(abs);
  }

  /** A file of this user is still waiting to hold still. */
  holdsFor(user: string): boolean {
    for (const w of this.waiting.values()) if (w.user === user) return true;
    return false;
  }

  close(): void {
    this.poll.stop();
    this.waiting.clear();
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const entries = [...this.waiting];
    const stats = await Promise.all(entries.map(([abs]) => lstat(abs).catch(() => undefined))); // gone meanwhile: dropped below, its unlink event reports it
    for (const [k, [abs, w]] of entries.entries()) {
      if (this.waiting.get(abs) !== w) continue; // replaced or dropped meanwhile
      const st = stats[k];
      if (!st?.isFile() || this.ctx.store.isOwnFile(w.user, w.rel, st)) {
        this.waiting.delete(abs); // gone (the unlink event reports it), or the hub wrote it meanwhile
      } else if (st.size !== w.size || st.mtimeMs !== w.mtimeMs) {
        Object.assign(w, { size: st.size, mtimeMs: st.mtimeMs, since: now });
      } else if (now - w.since >= this.stabilityMs) {
        this.waiting.delete(abs);
        this.ctx.record(w.user, w.rel, 'upsert');
      }
    }
  }
}

// ---- new folders: walked once things settle ----------------------------------------------
// chokidar sets a new folder up in three steps: it emits addDir, lists the folder, and only then
// watches it. An entry created between the listing and the watch is never reported, and if that
// entry is a folder, chokidar never watches it at all: a user's `workspace` created a moment
// after the user's folder left the watcher blind to that user for good (issue 19). So:
// - a new folder is walked once things settle; its files go through `consider` like any event
//   (the hub's own are dropped at once, the store skips whatever it already recorded), so
//   nothing is announced twice;
// - a folder that walk finds but chokidar never announced is handed to chokidar to watch;
// - for `youngMs` after it appeared, a walked folder whose mtime moves is walked again, which
//   catches entries made after the walk but before chokidar's watch was in place.
class NewFolderWalker {
  private readonly pending = new Set<string>();
  /** Folders chokidar announced (addDir), and when: it watches those. Pruned after `youngMs`. */
  private readonly announcedDirs = new Map<string, number>();
  /** Folders walked within `youngMs` of appearing: when they appeared, and their mtime at the walk. */
  private readonly young = new Map<string, { born: number; mtimeMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly recheck: PollLoop;

  constructor(
    private readonly ctx: WatchContext,
    private readonly watcher: FSWatcher,
    private readonly files: StabilityPoller,
    private readonly t: { settleMs: number; youngMs: number; recheckMs: number },
  ) {
    this.recheck = new PollLoop(
      t.recheckMs,
      () => !ctx.isClosed() && this.young.size > 0,
      () => this.recheckYoung(),
      (err) => ctx.log.warn({ err }, 'agent watcher folder re-check failed'),
    );
  }

  /** chokidar announced a folder. */
  onAddDir(abs: string): void {
    const c = classify(this.ctx.dataDir, abs);
    if (typeof c !== 'object') return;
    this.announcedDirs.set(abs, Date.now());
    this.pending.add(abs);
    this.schedule();
  }

  /** A new folder of this user is still waiting to be walked. */
  holdsFor(user: string): boolean {
    for (const d of this.pending) if (userAt(this.ctx.dataDir, d) === user) return true;
    return false;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.recheck.stop();
    this.young.clear();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const dirs = [...this.pending].sort();
      this.pending.clear();
      const tops = dirs.filter((d, i) => !dirs.slice(0, i).some((p) => d.startsWith(p + sep)));
      for (const dir of tops) {
        this.ctx.work.trackAt(dir, this.rescan(dir)).catch((err: unknown) => this.ctx.log.warn({ err }, 'rescan of a new folder failed'));
      }
    }, this.t.settleMs);
    this.timer.unref();
  }

  private async rescan(dir: string): Promise<void> {
    // Folder by folder, so one subfolder removed mid-walk does not lose the rest of the tree
    // (a recursive readdir rejects as a whole when any folder under it vanishes).
    const stack = [dir];
    while (stack.length && !this.ctx.isClosed()) {
      const d = stack.pop()!;
      // The mtime before the listing: a change after it shows as a different mtime at the re-check.
      const st = await lstat(d).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      const now = Date.now();
      this.young.set(d, { born: this.young.get(d)?.born ?? this.announcedDirs.get(d) ?? now, mtimeMs: st.mtimeMs });
      const entries = await readdir(d, { withFileTypes: true }).catch(() => []); // removed meanwhile: nothing in it to announce
      const files: string[] = [];
      for (const e of entries) {
        const abs = join(d, e.name);
        if (e.isDirectory()) {
          if (classify(this.ctx.dataDir, abs) === 'ignore') continue;
          stack.push(abs);
          // Inside a new folder, chokidar announces every subfolder it watches. One it never
          // announced fell into its gap, and it would never watch it: hand it over.
          if (!this.announcedDirs.has(abs)) {
            this.announcedDirs.set(abs, now);
            this.watcher.add(abs);
          }
        } else if (e.isFile()) files.push(abs);
      }
      for (let i = 0; i < files.length; i += 64) await Promise.all(files.slice(i, i + 64).map((abs) => this.files.consider(abs)));
    }
    this.recheck.kick();
  }

  private async recheckYoung(): Promise<void> {
    const now = Date.now();
    for (const [d, t] of this.announcedDirs) if (now - t > this.t.youngMs) this.announcedDirs.delete(d);
    const entries = [...this.young];
    const stats = await Promise.all(entries.map(([d]) => lstat(d).catch(() => undefined))); // removed meanwhile: no longer young
    let moved = false;
    for (const [k, [d, y]] of entries.entries()) {
      const st = stats[k];
      if (!st?.isDirectory() || now - y.born > this.t.youngMs) this.young.delete(d);
      if (st?.isDirectory() && st.mtimeMs !== y.mtimeMs) {
        this.pending.add(d);
        moved = true;
      }
    }
    if (moved) this.schedule();
  }
}

export function watchAgentWrites(store: WatchedStore, dataDir: string, log: Logger, opts: AgentWatchOptions = {}): AgentWatcher {
  const { stabilityMs = 150, settleMs = 300, pollMs = 50, youngMs = 10_000, recheckMs = 1_000 } = opts;
  const watcher: FSWatcher = (opts.watch ?? watch)(dataDir, {
    ignoreInitial: true,
    followSymlinks: false,
    ignored: (p: string) => classify(dataDir, p) === 'ignore',
  });
  let closed = false;
  let isReady = false;
  const work = new UserWork(dataDir);
  const ctx: WatchContext = {
    store,
    dataDir,
    log,
    work,
    isClosed: () => closed,
    record: (user, rel, kind) => {
      if (closed) return;
      work.track(user, store.recordExternal(user, rel, kind)).catch((err: unknown) => log.warn({ err, user }, 'agent change not recorded'));
    },
  };
  const files = new StabilityPoller(ctx, stabilityMs, pollMs);
  const folders = new NewFolderWalker(ctx, watcher, files, { settleMs, youngMs, recheckMs });

  const onUpsert = (abs: string): void => {
    work.trackAt(abs, files.consider(abs)).catch((err: unknown) => log.warn({ err }, 'agent change not recorded'));
  };
  watcher.on('add', onUpsert);
  watcher.on('change', onUpsert);
  watcher.on('unlink', (abs: string) => {
    files.forget(abs);
    const c = classify(dataDir, abs);
    if (typeof c === 'object' && c.rel) ctx.record(c.user, c.rel, 'delete');
  });
  watcher.on('error', (err) => log.warn({ err }, 'workspace watcher error'));
  watcher.on('addDir', (abs: string) => folders.onAddDir(abs));

  const ready = new Promise<void>((resolve) =>
    watcher.once('ready', () => {
      isReady = true;
      resolve();
    }),
  );
  return {
    ready,
    settled: (userId) => {
      // Before its first scan is done, the watcher would miss an in-place edit: nothing is settled.
      if (!isReady) return false;
      if (work.has(userId)) return false;
      if (files.holdsFor(userId)) return false;
      if (folders.holdsFor(userId)) return false;
      return true;
    },
    close: async () => {
      closed = true;
      folders.close();
      files.close();
      await watcher.close();
    },
  };
}
