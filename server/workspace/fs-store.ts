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
import { fsyncDir, tempPathFor } from '../../shared/atomic-fs.ts';
import { HASH_PREFIX } from '../../shared/hash.ts';
import { checkPath, pathKey } from '../../shared/paths.ts';
import { UserIdSchema, type Change, type Changes, type FileEntry, type PutResult } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import { assertRealRoot, locate, validPath } from './fs-paths.ts';
import { HashCache } from './hash-cache.ts';
import { ChangeJournal, type Journal } from './journal.ts';
import { KeyedMutex } from './mutex.ts';
import { wouldExceedQuota } from './quota.ts';
import { StoreError, type DeleteOptions, type WorkspaceStore, type WriteOptions } from './types.ts';
import { VersionStore, type Version } from './versions.ts';

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

/** Temp uploads older than this are leftovers of a crashed instance (an upload in flight keeps touching its file). */
const STALE_TMP_MS = 60 * 60 * 1000;

interface UserState {
  cache: HashCache;
  versions: VersionStore;
  /** Last content hash the hub recorded per path (null = deleted): lets the watcher skip the hub's own writes. */
  known: Map<string, string | null>;
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
    const root = this.workspaceDir(userId);
    const files: FileEntry[] = [];
    const live = new Set<string>();
    let usage = 0;
    await assertRealRoot(root);
    const rels = await walkFiles(root, this.opts.log);
    // Stats (and hashes of changed files) are asked for 64 at a time and used in walk order: one
    // at a time, a listing of 10,000 files is mostly waiting on the thread pool.
    const known = new Map<string, Promise<{ hash: string; st: Stats } | undefined>>();
    const ahead = (i: number): void => {
      const rel = rels[i];
      if (rel !== undefined && checkPath(pathKey(rel)).ok) known.set(rel, s.cache.hashOf(pathKey(rel), join(root, rel)));
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
      if (!r) continue;
      live.add(path);
      usage += r.st.size;
      files.push(entry(path, r.hash, r.st));
    }
    s.cache.retain(live);
    if (s.generation === generation) s.usage = usage;
    await s.cache.save().catch((err: unknown) => this.opts.log.warn({ err }, 'hash cache not saved'));
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { cursor, files };
  }

  async stat(userId: string, path: string): Promise<FileEntry | undefined> {
    const p = validPath(path, false);
    const s = await this.state(userId);
    const loc = await locate(this.workspaceDir(userId), p);
    if (!loc.st?.isFile()) return undefined;
    const r = await s.cache.hashOf(p, loc.abs);
    return r ? entry(p, r.hash, r.st) : undefined;
  }

  async read(userId: string, path: string): Promise<{ entry: FileEntry; stream: Readable }> {
    const p = validPath(path, false);
    const s = await this.state(userId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const loc = await locate(this.workspaceDir(userId), p);
      if (!loc.st?.isFile()) throw new StoreError('not_found', 'no such file');
      const r = await s.cache.hashOf(p, loc.abs);
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
    const root = this.workspaceDir(userId);
    const tmp = tempPathFor('upload', this.tmpDir(userId));
    let moved = false;
    try {
      const { hash, size } = await this.receive(body, tmp);
      if (opts.expectedHash && opts.expectedHash !== hash) {
        throw new StoreError('hash_mismatch', 'the received bytes do not match X-Content-SHA256; nothing was written');
      }
      return await this.locks.run(userId, async (lease) => {
        const loc = await locate(root, p);
        if (loc.st?.isSymbolicLink()) throw new StoreError('conflict', 'a symlink occupies this path; the hub does not write through symlinks');
        if (loc.st?.isDirectory()) throw new StoreError('conflict', 'a folder exists at this path');
        if (loc.st && !loc.st.isFile()) throw new StoreError('conflict', 'something other than a file exists at this path');
        const cur = loc.st ? await s.cache.hashOf(p, loc.abs) : undefined;
        checkPreconditions(cur?.hash, opts.ifMatch, opts.ifNoneMatch);
        if (cur && cur.hash === hash) {
          // Same bytes: nothing to replace, nothing to announce (idempotent re-upload).
          return entry(p, hash, cur.st);
        }
        const used = await this.usage(userId, s);
        if (wouldExceedQuota({ usedBytes: used, replacedBytes: cur?.st.size ?? 0, newBytes: size, quotaBytes: this.opts.maxWorkspaceBytes })) {
          throw new StoreError('quota_exceeded', `workspace quota of ${this.opts.maxWorkspaceBytes} bytes would be exceeded`);
        }
        if (cur) await s.versions.keep({ path: p, abs: loc.abs, hash: cur.hash, size: cur.st.size, reason: 'overwrite' });
        try {
          await mkdir(dirname(loc.abs), { recursive: true });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EEXIST' || code === 'ENOTDIR') throw new StoreError('conflict', 'a parent of this path is a file');
          throw e;
        }
        lease.assertHeld();
        s.known.set(p, hash);
        s.generation++;
        await rename(tmp, loc.abs);
        moved = true;
        await fsyncDir(dirname(loc.abs));
        const st = await lstat(loc.abs);
        s.cache.set(p, st, hash);
        this.scheduleSave(s);
        s.usage = used - (cur?.st.size ?? 0) + size;
        const result = entry(p, hash, st);
        await this.emit(userId, { ...result, source: opts.source });
        return result;
      });
    } finally {
      if (!moved) await unlink(tmp).catch(() => {});
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
      const cur = await s.cache.hashOf(p, loc.abs);
      if (!cur) throw new StoreError('not_found', 'no such file');
      if (opts.ifMatch !== undefined && opts.ifMatch !== '*' && opts.ifMatch !== cur.hash) {
        throw new StoreError('precondition_failed', 'the file changed on the hub (If-Match does not match); nothing was deleted');
      }
      await s.versions.keep({ path: p, abs: loc.abs, hash: cur.hash, size: cur.st.size, reason: 'delete' });
      lease.assertHeld();
      s.known.set(p, null);
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
      // With a shared volume every instance's watcher sees the write: the shared feed keeps one.
      if (!r || (!shared && s.known.get(path) === r.hash)) return;
      s.known.set(path, r.hash);
      // A path the cache did not know is counted as new; the next listing recounts exactly.
      s.usage = s.usage !== undefined ? Math.max(0, s.usage - (before ?? 0) + r.st.size) : undefined;
      s.generation++;
      this.scheduleSave(s);
      await this.emit(userId, { ...entry(path, r.hash, r.st), source: 'agent' }, shared);
    });
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

  private async receive(body: Readable | Uint8Array, tmp: string): Promise<{ hash: string; size: number }> {
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
    } finally {
      await fh.close();
    }
    return { hash: HASH_PREFIX + h.digest('hex'), size };
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

function entry(path: string, hash: string, st: Stats): FileEntry {
  return { path, hash, size: st.size, modified: st.mtime.toISOString() };
}

function checkPreconditions(current: string | undefined, ifMatch: string | undefined, ifNoneMatch: boolean | undefined): void {
  if (ifNoneMatch && current !== undefined) {
    throw new StoreError('precondition_failed', 'the file already exists on the hub (If-None-Match: *); nothing was written');
  }
  if (ifMatch !== undefined) {
    if (current === undefined) throw new StoreError('precondition_failed', 'the file no longer exists on the hub; nothing was written');
    if (ifMatch !== '*' && ifMatch !== current) {
      throw new StoreError('precondition_failed', 'the file changed on the hub (If-Match does not match); nothing was written');
    }
  }
}

/** Regular files under `root`, relative and `/`-separated; symlinks are skipped, never followed. */
async function walkFiles(root: string, log: Logger): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
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
