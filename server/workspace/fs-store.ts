// The hub's workspace store on the local filesystem. Layout per user:
//   <data-dir>/<user>/workspace/      the workspace (what clients and the agent see)
//   <data-dir>/<user>/.hub/state/     hub state for other features (stateDir)
//   <data-dir>/<user>/.hub/versions/  replaced and deleted content
//   <data-dir>/<user>/.hub/tmp/       uploads in flight (same filesystem, outside workspace/)
//   <data-dir>/<user>/.hub/hash-cache.json
// Writes are serialised per user (check + version + rename under one lock), so two
// conditional writes can never both win and the quota is counted without races.
import { createHash } from 'node:crypto';
import { createWriteStream, constants as fsConstants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { fsyncDir, tempPathFor } from '../../shared/node/atomic-fs.ts';
import { HASH_PREFIX } from '../../shared/hash.ts';
import { checkPath, pathKey } from '../../shared/paths.ts';
import { UserIdSchema, type Change, type Changes, type FileEntry, type PutResult } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import { foldersUnchanged, markOf, type FolderMarks } from './folder-marks.ts';
import { assertRealRoot, locate, LocateCache, validPath } from './fs-paths.ts';
import { HashCache, statKey } from './hash-cache.ts';
import { ChangeJournal, type Journal } from './journal.ts';
import { KeyedMutex } from './mutex.ts';
import { wouldExceedQuota } from './quota.ts';
import { StoreError, type DeleteOptions, type WorkspaceStore, type WriteOptions } from './types.ts';
import { VersionStore, type Version } from './versions.ts';
import { announceMissed, missedChanges } from './verify-walk.ts';
import { checkPreconditions, independentGroups } from './write-plan.ts';

export interface FsStoreOptions {
  dataDir: string;
  maxFileBytes: number;
  maxWorkspaceBytes: number;
  versionRetentionDays: number;
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
}

/** A keyed lock; `lease.assertHeld()` throws when a distributed lock was lost meanwhile. */
export interface WriteLock {
  run<T>(key: string, fn: (lease: { assertHeld(): void }) => Promise<T>): Promise<T>;
}

/** One file of a batch write (`writeMany`): its bytes are in memory. */
export interface BatchItem {
  path: string;
  bytes: Uint8Array;
  opts: WriteOptions;
}

/** The outcome of one batch item: what `write()` would have returned, or thrown. */
export type BatchResult = { ok: true; entry: PutResult } | { ok: false; error: unknown };

/** An upload received into a temp file (fsynced), ready to be applied under the lock. */
interface Prepared {
  /** Index in the request. */
  i: number;
  p: string;
  tmp: string;
  hash: string;
  size: number;
  /** Stat of the temp file; a rename keeps inode, size and mtime, so it is the stat the file will have. */
  st: Stats;
  opts: WriteOptions;
}

/**
 * How many file operations of one batch are in flight at once: temp writes with their fsync,
 * lookups, renames. Enough to keep the disk queue and the libuv pool busy (fsync one at a time
 * is ~0.5 ms of waiting per file), few enough not to starve other requests of the pool.
 */
const BATCH_IO_PARALLEL = 16;

/** Temp uploads older than this are leftovers of a crashed instance (an upload in flight keeps touching its file). */
const STALE_TMP_MS = 60 * 60 * 1000;

interface UserState {
  cache: HashCache;
  versions: VersionStore;
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

/** An upload that overshoots the limit is read on (and dropped) up to this much, so the 413 can still be delivered. */
const DRAIN_CAP = 1024 * 1024;

export class FsWorkspaceStore implements WorkspaceStore {
  readonly journal: Journal;
  private readonly listeners = new Set<(userId: string, change: Change) => void>();
  private readonly states = new Map<string, UserState>();
  /** Set by close(): no background work starts after it. */
  private closing = false;
  /** Set by whoever runs the agent watcher (main.ts): false while it has changes of this user in hand. */
  agentSettled: ((userId: string) => boolean) | undefined;
  /** Users whose workspace this instance walked completely (a listing), and when that walk started. */
  private readonly walkedAt = new Map<string, number>();
  /** Per user, the marks of the workspace folders as this instance last compared them with its view. */
  private readonly folderMarks = new Map<string, FolderMarks>();
  private readonly locks: WriteLock;
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

  private track<T>(p: Promise<T>): Promise<T> {
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

  private async state(userId: string): Promise<UserState> {
    let s = this.states.get(userId);
    if (!s) {
      const hub = this.hubDir(userId);
      s = {
        // tmp/ holds uploads only (cleared at start); bookkeeping files use their own folders for temp files.
        cache: new HashCache(join(hub, 'hash-cache.json'), hub),
        versions: new VersionStore(join(hub, 'versions'), join(hub, 'versions')),
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

  async users(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.opts.dataDir, { withFileTypes: true });
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !UserIdSchema.safeParse(e.name).success) continue;
      const ws = await lstat(join(this.opts.dataDir, e.name, 'workspace')).catch(() => undefined);
      if (ws?.isDirectory()) out.push(e.name);
    }
    return out.sort();
  }

  // ---- change feed --------------------------------------------------------------------

  onChange(listener: (userId: string, change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces a change; false when `dedupe` found the feed already holding it. */
  private async emit(userId: string, change: Change, dedupe = false): Promise<boolean> {
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

  changes(userId: string, since: unknown, waitMs: number, signal?: AbortSignal): Promise<Changes> {
    this.userDir(userId);
    return this.journal.wait(userId, since, waitMs, signal);
  }

  // ---- reads --------------------------------------------------------------------------

  async list(userId: string): Promise<{ cursor: string; files: FileEntry[] }> {
    // The cursor is taken first: a change during the walk is delivered again by the feed, never missed.
    const cursor = await this.journal.cursor(userId);
    const s = await this.state(userId);
    const generation = s.generation;
    const startedAt = Date.now();
    // The view this walk checks the disk against (verify-walk.ts). Without an earlier walk here
    // and without a cache file there is no view yet: nothing can have been missed relative to it.
    const viewBefore = s.cache.paths();
    const checking = this.walkedAt.has(userId) || viewBefore.length > 0;
    const walked: { rel: string; path: string; hash: string; before: string | undefined }[] = [];
    const before = new Map<string, string | undefined>();
    const root = this.workspaceDir(userId);
    const files: FileEntry[] = [];
    const live = new Set<string>();
    let usage = 0;
    await assertRealRoot(root);
    const marks: FolderMarks = new Map();
    const rels = await walkFiles(root, this.opts.log, marks);
    // Stats (and hashes of changed files) are asked for 64 at a time and used in walk order: one
    // at a time, a listing of 10,000 files is mostly waiting on the thread pool.
    const known = new Map<string, Promise<{ hash: string; st: Stats } | undefined>>();
    const ahead = (i: number): void => {
      const rel = rels[i];
      if (rel === undefined || !checkPath(pathKey(rel)).ok) return;
      // Read before hashOf may replace it: the hash this path had in the hub's view.
      before.set(rel, s.cache.peek(pathKey(rel)));
      known.set(rel, s.cache.hashOf(pathKey(rel), join(root, rel)));
    };
    for (let i = 0; i < 64; i++) ahead(i);
    for (const [i, rel] of rels.entries()) {
      ahead(i + 64);
      const pending = known.get(rel);
      known.delete(rel);
      const path = pathKey(rel);
      const check = checkPath(path);
      if (!check.ok) {
        this.opts.log.warn({ userId, reason: check.reason }, 'workspace holds a file with an invalid name; not listed');
        continue;
      }
      if (live.has(path)) {
        // Two names on disk that differ only in Unicode normalisation: list one, never both under one path.
        this.opts.log.warn({ userId }, 'workspace holds NFC and NFD variants of one name; listing one');
        continue;
      }
      const r = await pending;
      const was = before.get(rel);
      before.delete(rel);
      if (!r) continue;
      if (checking && was !== r.hash) walked.push({ rel, path, hash: r.hash, before: was });
      live.add(path);
      usage += r.st.size;
      files.push(entry(path, r.hash, r.st));
    }
    s.cache.retain(live);
    if (s.generation === generation) s.usage = usage;
    await s.cache.save().catch((err: unknown) => this.opts.log.warn({ err }, 'hash cache not saved'));
    if (checking) await announceMissed(this, userId, missedChanges(walked, viewBefore, live), this.opts.log);
    this.folderMarks.set(userId, marks);
    this.walkedAt.set(userId, startedAt);
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { cursor, files };
  }

  /**
   * The listing at `cursor` is still what this hub would list (a conditional listing may answer
   * 304): nothing was announced after it; this instance has walked the workspace, and no folder
   * gained, lost or renamed an entry that its view does not hold (folder-marks.ts), whether or not
   * the agent watcher saw it; and the watcher has no change of this user in hand (an in-place
   * edit of a file, which no folder mtime shows). The cursor is the shared feed's (several
   * instances); the walk, the marks and the watcher are this instance's own.
   */
  async unchangedSince(userId: string, cursor: string): Promise<boolean> {
    const marks = this.folderMarks.get(userId);
    if (!marks || !this.walkedAt.has(userId)) return false;
    const s = await this.state(userId);
    const view = { holds: (p: string, st: Stats) => s.cache.get(p, st) !== undefined, paths: () => s.cache.paths() };
    if (!(await foldersUnchanged(this.workspaceDir(userId), marks, view))) return false;
    // Asked after the folder check: a change the watcher recorded into the view during that check
    // holds it busy until the change is announced, so the cursor below has moved by then.
    if (this.agentSettled && !this.agentSettled(userId)) return false;
    return (await this.journal.cursor(userId)) === cursor;
  }

  /**
   * A background verification walk (verify-walk.ts): a listing nobody waits for. It counts as work
   * in flight, so close() lets it finish, and none starts once the store is closing (it would
   * write the hash cache into a data dir that may be going away).
   */
  async verify(userId: string): Promise<void> {
    if (this.closing) return;
    await this.track(this.list(userId));
  }

  /** When this instance last started a full walk of the user's workspace (epoch ms). */
  lastWalkAt(userId: string): number | undefined {
    return this.walkedAt.get(userId);
  }

  async stat(userId: string, path: string): Promise<FileEntry | undefined> {
    const p = validPath(path, false);
    const s = await this.state(userId);
    const loc = await locate(this.workspaceDir(userId), p);
    if (!loc.st?.isFile()) return undefined;
    const r = await s.cache.hashOf(p, loc.abs, { remember: false });
    return r ? entry(p, r.hash, r.st) : undefined;
  }

  async read(userId: string, path: string): Promise<{ entry: FileEntry; stream: Readable }> {
    const p = validPath(path, false);
    const s = await this.state(userId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const loc = await locate(this.workspaceDir(userId), p);
      if (!loc.st?.isFile()) throw new StoreError('not_found', 'no such file');
      const r = await s.cache.hashOf(p, loc.abs, { remember: false });
      if (!r) continue;
      // Open without following a symlink swapped in meanwhile, then make sure the open file is the one hashed.
      let fh;
      try {
        fh = await open(loc.abs, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
      } catch {
        continue;
      }
      const st = await fh.stat();
      if (st.ino !== r.st.ino || st.size !== r.st.size || st.mtimeMs !== r.st.mtimeMs) {
        await fh.close();
        continue;
      }
      return { entry: entry(p, r.hash, st), stream: fh.createReadStream({ start: 0, autoClose: true }) };
    }
    throw new StoreError('conflict', 'the file is being changed on the hub; try again shortly');
  }

  // ---- writes -------------------------------------------------------------------------

  write(userId: string, path: string, body: Readable | Uint8Array, opts: WriteOptions): Promise<PutResult> {
    return this.track(this.writeNow(userId, path, body, opts));
  }

  private async writeNow(userId: string, path: string, body: Readable | Uint8Array, opts: WriteOptions): Promise<PutResult> {
    const p = validPath(path, true);
    const s = await this.state(userId);
    const tmp = tempPathFor('upload', this.tmpDir(userId));
    const moved = new Set<string>();
    try {
      const { hash, size, st } = await this.receive(body, tmp);
      if (opts.expectedHash && opts.expectedHash !== hash) {
        throw new StoreError('hash_mismatch', 'the received bytes do not match X-Content-SHA256; nothing was written');
      }
      const results: BatchResult[] = [];
      await this.locks.run(userId, (lease) => this.applyLocked(userId, s, lease, [{ i: 0, p, tmp, hash, size, st, opts }], results, moved));
      const r = results[0]!;
      if (!r.ok) throw r.error;
      return r.entry;
    } finally {
      if (!moved.has(tmp)) await unlink(tmp).catch(() => {});
    }
  }

  /**
   * Writes many small files (a bulk upload, whose bytes are in memory) with the semantics of
   * `write()` for each, in request order: every item is validated and hash-checked first, all
   * temp files are written and fsynced in parallel, then the user's lock is taken once for the
   * batch. One item's failure never stops the others; the result of item i is `results[i]`.
   */
  writeMany(userId: string, items: readonly BatchItem[]): Promise<BatchResult[]> {
    return this.track(this.writeManyNow(userId, items));
  }

  private async writeManyNow(userId: string, items: readonly BatchItem[]): Promise<BatchResult[]> {
    const results: BatchResult[] = new Array<BatchResult>(items.length);
    const s = await this.state(userId);
    const tmpDir = this.tmpDir(userId);
    const created: string[] = [];
    const moved = new Set<string>();
    try {
      const checked: { i: number; p: string; hash: string; bytes: Uint8Array; opts: WriteOptions }[] = [];
      for (const [i, it] of items.entries()) {
        try {
          const p = validPath(it.path, true);
          if (it.bytes.length > this.opts.maxFileBytes) throw new StoreError('too_large', `file is larger than ${this.opts.maxFileBytes} bytes`);
          const hash = HASH_PREFIX + createHash('sha256').update(it.bytes).digest('hex');
          if (it.opts.expectedHash && it.opts.expectedHash !== hash) {
            throw new StoreError('hash_mismatch', 'the received bytes do not match X-Content-SHA256; nothing was written');
          }
          checked.push({ i, p, hash, bytes: it.bytes, opts: it.opts });
        } catch (error) {
          results[i] = { ok: false, error };
        }
      }
      if (checked.length === 0) return results;
      await mkdir(tmpDir, { recursive: true });
      const limit = pLimit(BATCH_IO_PARALLEL);
      // Every temp file is written first and fsynced after: the first fsync's journal commit
      // carries the data of the whole batch, so the others mostly find theirs already on disk
      // (write + fsync file by file makes each one wait for a commit of its own).
      const written: Prepared[] = [];
      await Promise.all(
        checked.map((c) =>
          limit(async () => {
            const tmp = tempPathFor('upload', tmpDir);
            created.push(tmp);
            try {
              const st = await writeTemp(tmp, c.bytes);
              written.push({ i: c.i, p: c.p, tmp, hash: c.hash, size: c.bytes.length, st, opts: c.opts });
            } catch (error) {
              results[c.i] = { ok: false, error };
            }
          }),
        ),
      );
      const prepared: Prepared[] = [];
      await Promise.all(
        written.map((w) =>
          limit(async () => {
            try {
              await fsyncFile(w.tmp);
              prepared.push(w);
            } catch (error) {
              results[w.i] = { ok: false, error };
            }
          }),
        ),
      );
      prepared.sort((a, b) => a.i - b.i);
      try {
        await this.locks.run(userId, (lease) => this.applyLocked(userId, s, lease, prepared, results, moved));
      } catch (error) {
        // The lock itself failed (e.g. a distributed lock lost): every item not yet answered failed.
        for (const it of prepared) results[it.i] ??= { ok: false, error };
      }
      return results;
    } finally {
      // Temp files never outlive the request, whatever failed.
      await Promise.all(created.filter((t) => !moved.has(t)).map((t) => unlink(t).catch(() => {})));
    }
  }

  /**
   * Applies received uploads (temp files, in request order) under the user's lock, exactly as if
   * one after another: group by group of paths that cannot affect each other, each group is
   * located in parallel, decided in order (preconditions, same bytes, quota counted across the
   * batch), renamed in parallel, then each touched folder is fsynced once, and only then are the
   * changes cached and announced, in order. Sets `results[item.i]`; adds renamed temps to `moved`.
   */
  private async applyLocked(
    userId: string,
    s: UserState,
    lease: { assertHeld(): void },
    prepared: readonly Prepared[],
    results: BatchResult[],
    moved: Set<string>,
  ): Promise<void> {
    const root = this.workspaceDir(userId);
    const limit = pLimit(BATCH_IO_PARALLEL);
    const fail = (i: number, error: unknown): void => {
      results[i] = { ok: false, error };
    };
    for (const group of independentGroups(prepared.map((x) => x.p))) {
      const items = group.map((k) => prepared[k]!);
      // Fresh per group: the lookups of a group all happen before any of its writes.
      const lookups = new LocateCache();
      // 1. What is there now (parallel: the paths of a group are independent).
      const found = await Promise.all(
        items.map((it) =>
          limit(async () => {
            try {
              const loc = await locate(root, it.p, lookups);
              if (loc.st?.isSymbolicLink()) throw new StoreError('conflict', 'a symlink occupies this path; the hub does not write through symlinks');
              if (loc.st?.isDirectory()) throw new StoreError('conflict', 'a folder exists at this path');
              if (loc.st && !loc.st.isFile()) throw new StoreError('conflict', 'something other than a file exists at this path');
              const cur = loc.st ? await s.cache.hashOf(it.p, loc.abs, { remember: false }) : undefined;
              return { loc, cur };
            } catch (error) {
              fail(it.i, error);
              return undefined;
            }
          }),
        ),
      );
      // 2. Decide in request order; the quota sees every earlier acceptance of the batch.
      const accepted: { it: Prepared; abs: string; cur?: { hash: string; st: Stats } }[] = [];
      let base: number | undefined;
      let used = 0;
      for (const [k, it] of items.entries()) {
        const f = found[k];
        if (!f) continue;
        try {
          checkPreconditions(f.cur?.hash, it.opts.ifMatch, it.opts.ifNoneMatch);
          if (f.cur && f.cur.hash === it.hash) {
            // Same bytes: nothing to replace, nothing to announce (idempotent re-upload).
            results[it.i] = { ok: true, entry: entry(it.p, it.hash, f.cur.st) };
            continue;
          }
          if (base === undefined) used = base = await this.usage(userId, s);
          const replaced = f.cur?.st.size ?? 0;
          if (wouldExceedQuota({ usedBytes: used, replacedBytes: replaced, newBytes: it.size, quotaBytes: this.opts.maxWorkspaceBytes })) {
            throw new StoreError('quota_exceeded', `workspace quota of ${this.opts.maxWorkspaceBytes} bytes would be exceeded`);
          }
          used += it.size - replaced;
          accepted.push({ it, abs: f.loc.abs, ...(f.cur ? { cur: f.cur } : {}) });
        } catch (error) {
          fail(it.i, error);
        }
      }
      if (accepted.length === 0 || base === undefined) continue;
      // 3. Keep the replaced content, make the folders (once each), rename: parallel.
      const folders = new Map<string, Promise<void>>();
      const mkdirOnce = (dir: string): Promise<void> => {
        let p = folders.get(dir);
        if (!p) {
          p = mkdir(dir, { recursive: true }).then(
            () => undefined,
            (e: unknown) => {
              const code = (e as NodeJS.ErrnoException).code;
              if (code === 'EEXIST' || code === 'ENOTDIR') throw new StoreError('conflict', 'a parent of this path is a file');
              throw e;
            },
          );
          folders.set(dir, p);
        }
        return p;
      };
      const renamed = await Promise.all(
        accepted.map(({ it, abs, cur }) =>
          limit(async () => {
            try {
              if (cur) await s.versions.keep({ path: it.p, abs, hash: cur.hash, size: cur.st.size, reason: 'overwrite' });
              await mkdirOnce(dirname(abs));
              lease.assertHeld();
              s.known.set(it.p, it.hash);
              // Before the rename, so the watcher can never see this file before knowing it as ours
              // (a rename keeps inode, size and mtime).
              s.recorded.set(it.p, statKey(it.st));
              s.generation++;
              await rename(it.tmp, abs);
              moved.add(it.tmp);
              return true;
            } catch (error) {
              fail(it.i, error);
              return false;
            }
          }),
        ),
      );
      const done = accepted.filter((_, k) => renamed[k]);
      // 4. One fsync per touched folder makes the renames durable before anything is announced.
      await Promise.all([...new Set(done.map((d) => dirname(d.abs)))].map((dir) => limit(() => fsyncDir(dir))));
      const stats = await Promise.all(done.map((d) => limit(() => lstat(d.abs).then((st) => ({ st }), (error: unknown) => ({ error })))));
      // 5. Cache, usage and the feed, in request order; each change announced once.
      let delta = 0;
      for (const [k, { it, cur }] of done.entries()) {
        delta += it.size - (cur?.st.size ?? 0);
        const got = stats[k]!;
        if (!('st' in got)) {
          fail(it.i, got.error);
          continue;
        }
        const st = got.st;
        s.cache.set(it.p, st, it.hash);
        const result = entry(it.p, it.hash, st);
        try {
          await this.emit(userId, { ...result, source: it.opts.source });
          results[it.i] = { ok: true, entry: result };
        } catch (error) {
          fail(it.i, error);
        }
      }
      s.usage = base + delta;
      this.scheduleSave(s);
    }
  }

  remove(userId: string, path: string, opts: DeleteOptions): Promise<void> {
    return this.track(this.removeNow(userId, path, opts));
  }

  private async removeNow(userId: string, path: string, opts: DeleteOptions): Promise<void> {
    const p = validPath(path, false);
    const s = await this.state(userId);
    const root = this.workspaceDir(userId);
    await this.locks.run(userId, async (lease) => {
      const loc = await locate(root, p);
      if (!loc.st || loc.st.isSymbolicLink()) throw new StoreError('not_found', 'no such file');
      if (loc.st.isDirectory()) throw new StoreError('conflict', 'a folder exists at this path');
      const cur = await s.cache.hashOf(p, loc.abs, { remember: false });
      if (!cur) throw new StoreError('not_found', 'no such file');
      if (opts.ifMatch !== undefined && opts.ifMatch !== '*' && opts.ifMatch !== cur.hash) {
        throw new StoreError('precondition_failed', 'the file changed on the hub (If-Match does not match); nothing was deleted');
      }
      await s.versions.keep({ path: p, abs: loc.abs, hash: cur.hash, size: cur.st.size, reason: 'delete' });
      lease.assertHeld();
      s.known.set(p, null);
      s.recorded.delete(p);
      s.generation++;
      await unlink(loc.abs);
      s.cache.delete(p);
      this.scheduleSave(s);
      if (s.usage !== undefined) s.usage -= cur.st.size;
      await removeEmptyParents(root, dirname(loc.abs));
      await this.emit(userId, { path: p, hash: null, source: opts.source });
    });
  }

  // ---- versions -----------------------------------------------------------------------

  async versions(userId: string, path: string): Promise<Version[]> {
    const p = validPath(path, false);
    return (await this.state(userId)).versions.list(p);
  }

  /** Puts a kept version back through the normal write path; the replaced content is kept in turn. */
  async restore(userId: string, path: string, versionId: string): Promise<PutResult> {
    const p = validPath(path, true);
    const s = await this.state(userId);
    const found = await s.versions.find(p, versionId);
    if (!found) throw new StoreError('not_found', 'no such version');
    const { createReadStream } = await import('node:fs');
    return this.write(userId, p, createReadStream(found.blob), { expectedHash: found.version.hash, source: 'restore' });
  }

  async pruneVersions(now = Date.now()): Promise<number> {
    const cutoff = now - this.opts.versionRetentionDays * 86_400_000;
    let n = 0;
    for (const u of await this.users()) n += await (await this.state(u)).versions.prune(cutoff);
    return n;
  }

  // ---- the agent writing straight into the folder ---------------------------------------

  /**
   * Records a change another process made in the workspace (called by the watcher once the
   * file is stable). The hub's own writes are recognised by their hash and skipped. Agent
   * overwrites cannot be versioned: the old bytes are gone by the time the hub hears of them.
   */
  async recordExternal(userId: string, relOnDisk: string, kind: 'upsert' | 'delete'): Promise<void> {
    const path = pathKey(relOnDisk);
    if (!checkPath(path).ok) {
      this.opts.log.warn({ userId, reason: checkPath(path) }, 'agent wrote a file with an invalid name; not synced');
      return;
    }
    const s = await this.state(userId);
    const abs = join(this.workspaceDir(userId), relOnDisk);
    const shared = this.opts.sharedVolume === true;
    await this.locks.run(userId, async () => {
      const st = await lstat(abs).catch(() => undefined);
      if (kind === 'delete') {
        if (st) return; // it came back; the add event reports it
        if (!shared && s.known.get(path) === null) return;
        s.known.set(path, null);
        s.recorded.delete(path);
        const gone = s.cache.sizeOf(path);
        s.cache.delete(path);
        // Keep the usage count without walking the workspace on the next write (10k files: ~0.5 s).
        s.usage = s.usage !== undefined && gone !== undefined ? Math.max(0, s.usage - gone) : undefined;
        s.generation++;
        await this.emit(userId, { path, hash: null, source: 'agent' }, shared);
        return;
      }
      if (!st?.isFile()) return;
      const before = s.cache.sizeOf(path);
      const r = await s.cache.hashOf(path, abs);
      if (!r) return;
      // Seen now: later events for this very file (same inode, size, mtime) are dropped at once.
      s.recorded.set(path, statKey(r.st));
      // With a shared volume every instance's watcher sees the write: the shared feed keeps one.
      if (!shared && s.known.get(path) === r.hash) return;
      s.known.set(path, r.hash);
      // A path the cache did not know is counted as new; the next listing recounts exactly.
      s.usage = s.usage !== undefined ? Math.max(0, s.usage - (before ?? 0) + r.st.size) : undefined;
      s.generation++;
      this.scheduleSave(s);
      await this.emit(userId, { ...entry(path, r.hash, r.st), source: 'agent' }, shared);
    });
  }

  /**
   * True when the file at `relOnDisk` is exactly the one the hub itself last wrote or recorded
   * there (same inode, size and mtime as `st`): the watcher drops such events without taking the
   * lock. Anything else (an agent's write, even of the same bytes) answers false.
   */
  isOwnFile(userId: string, relOnDisk: string, st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): boolean {
    const key = this.states.get(userId)?.recorded.get(pathKey(relOnDisk));
    return key !== undefined && key === statKey(st);
  }

  // ---- helpers ------------------------------------------------------------------------

  private async usage(userId: string, s: UserState): Promise<number> {
    if (s.usage === undefined) {
      let total = 0;
      const root = this.workspaceDir(userId);
      for (const rel of await walkFiles(root, this.opts.log)) {
        const st = await lstat(join(root, rel)).catch(() => undefined);
        if (st?.isFile()) total += st.size;
      }
      s.usage = total;
    }
    return s.usage;
  }

  private async receive(body: Readable | Uint8Array, tmp: string): Promise<{ hash: string; size: number; st: Stats }> {
    const max = this.opts.maxFileBytes;
    const h = createHash('sha256');
    let size = 0;
    let over = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) {
          over = true;
          if (size > max + DRAIN_CAP) return cb(new StoreError('too_large', `file is larger than ${max} bytes`));
          return cb();
        }
        h.update(chunk);
        cb(null, chunk);
      },
    });
    const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
    await mkdir(dirname(tmp), { recursive: true });
    await pipeline(source, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    if (over) throw new StoreError('too_large', `file is larger than ${max} bytes`);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
      return { hash: HASH_PREFIX + h.digest('hex'), size, st: await fh.stat() };
    } finally {
      await fh.close();
    }
  }

  private scheduleSave(s: UserState): void {
    if (s.saveTimer) return;
    s.saveTimer = setTimeout(() => {
      s.saveTimer = undefined;
      s.cache.save().catch((err: unknown) => this.opts.log.warn({ err }, 'hash cache not saved'));
    }, 2000);
    s.saveTimer.unref();
  }

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
      await s.cache.save().catch(() => {});
    }
  }
}

/** Creates `tmp` (never an existing file) with `bytes`, fsynced; returns its stat. */
/** Writes a new temp file (not yet durable: see fsyncFile) and returns its stat. */
async function writeTemp(tmp: string, bytes: Uint8Array): Promise<Stats> {
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    return await fh.stat();
  } finally {
    await fh.close();
  }
}

/** fsync of a file written and closed earlier (an fsync flushes the inode's data, whoever wrote it). */
async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function entry(path: string, hash: string, st: Stats): FileEntry {
  return { path, hash, size: st.size, modified: st.mtime.toISOString() };
}

/**
 * Regular files under `root`, relative and `/`-separated; symlinks are skipped, never followed.
 * With `marks`, each folder's mark is taken just before it is read (folder-marks.ts).
 */
async function walkFiles(root: string, log: Logger, marks?: FolderMarks): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    if (marks) {
      const mark = await markOf(dir);
      if (mark) marks.set(dir === root ? '' : relative(root, dir).split(sep).join('/'), mark);
    }
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err }, 'cannot read workspace folder');
      continue;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) stack.push(abs);
      else if (e.isFile()) out.push(relative(root, abs).split(sep).join('/'));
    }
  }
  return out;
}

async function removeStaleTemps(dir: string, olderThanMs: number): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const abs = join(dir, name);
    const st = await lstat(abs).catch(() => undefined);
    if (st && st.mtimeMs < olderThanMs) await rm(abs, { recursive: true, force: true }).catch(() => {});
  }
}

async function removeEmptyParents(root: string, dir: string): Promise<void> {
  while (dir.startsWith(root + sep)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}
