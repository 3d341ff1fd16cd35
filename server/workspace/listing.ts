// The workspace store's reads: listings, the conditional listing's check (`unchangedSince`),
// verification walks, single-file stat and read, and the quota's byte count. A listing is a
// full walk of the workspace that also checks the disk against the hub's view (verify-walk.ts)
// and takes the folder marks a later 304 is judged by (folder-marks.ts).
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import pLimit from 'p-limit';
import type { Readable } from 'node:stream';
import { checkPath, pathKey } from '../../shared/paths.ts';
import type { FileEntry } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import { StoreError } from '../store-error.ts';
import { foldersUnchanged, markOf, type FolderMarks } from './folder-marks.ts';
import { assertRealRoot, locate, validPath } from './fs-paths.ts';
import { entry, type StoreCore, type UserState } from './store-core.ts';
import { announceMissed, missedChanges, type ExternalRecorder } from './verify-walk.ts';

/** A walked file whose hash is not the one the hub's view held for it before the walk. */
interface Walked {
  rel: string;
  path: string;
  hash: string;
  before: string | undefined;
}

/** What hashing the walked files found. */
interface HashedWalk {
  files: FileEntry[];
  live: Set<string>;
  usage: number;
  walked: Walked[];
  /** Listed path -> its name on disk (they differ for a name written in NFD). */
  onDisk: Map<string, string>;
}

export class WorkspaceReads {
  /** Users whose workspace this instance walked completely (a listing), and when that walk started. */
  private readonly walkedAt = new Map<string, number>();
  /** Per user, the marks of the workspace folders as this instance last compared them with its view. */
  private readonly folderMarks = new Map<string, FolderMarks>();

  constructor(
    private readonly core: StoreCore,
    /** Announces what a walk found behind the hub's back (the store's agent-change path). */
    private readonly recorder: ExternalRecorder,
  ) {}

  async list(userId: string): Promise<{ cursor: string; files: FileEntry[] }> {
    // The cursor is taken first: a change during the walk is delivered again by the feed, never missed.
    const cursor = await this.core.journal.cursor(userId);
    const s = await this.core.state(userId);
    const generation = s.generation;
    const startedAt = Date.now();
    // The view this walk checks the disk against (verify-walk.ts). Without an earlier walk here
    // and without a cache file there is no view yet: nothing can have been missed relative to it.
    const viewBefore = s.cache.paths();
    const hashesBefore = new Map(viewBefore.map((p) => [p, s.cache.peek(p)!] as const));
    const checking = this.walkedAt.has(userId) || viewBefore.length > 0;
    const root = this.core.workspaceDir(userId);
    await assertRealRoot(root);
    const marks: FolderMarks = new Map();
    const rels = await walkFiles(root, this.core.log, marks);
    const { files, live, usage, walked, onDisk } = await this.hashWalked(userId, s, root, rels, checking);
    await copyAnnounced(s, root, files, onDisk, this.core.log);
    s.cache.retain(live);
    if (s.generation === generation) s.usage = usage;
    await s.cache.save().catch((err: unknown) => this.core.log.warn({ err }, 'hash cache not saved'));
    if (checking) await announceMissed(this.recorder, userId, missedChanges(walked, viewBefore, live), this.core.log, hashesBefore);
    this.folderMarks.set(userId, marks);
    this.walkedAt.set(userId, startedAt);
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { cursor, files };
  }

  /** The listing's entries for the walked files `rels`, hashed through the cache, in walk order. */
  private async hashWalked(userId: string, s: UserState, root: string, rels: string[], checking: boolean): Promise<HashedWalk> {
    const log = this.core.log;
    const out: HashedWalk = { files: [], live: new Set(), usage: 0, walked: [], onDisk: new Map() };
    const before = new Map<string, string | undefined>();
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
        log.warn({ userId, reason: check.reason }, 'workspace holds a file with an invalid name; not listed');
        continue;
      }
      if (out.live.has(path)) {
        // Two names on disk that differ only in Unicode normalisation: list one, never both under one path.
        log.warn({ userId }, 'workspace holds NFC and NFD variants of one name; listing one');
        continue;
      }
      const r = await pending;
      const was = before.get(rel);
      before.delete(rel);
      if (!r) continue;
      if (checking && was !== r.hash) out.walked.push({ rel, path, hash: r.hash, before: was });
      out.live.add(path);
      out.usage += r.st.size;
      out.files.push(entry(path, r.hash, r.st));
      out.onDisk.set(path, rel);
    }
    return out;
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
    const s = await this.core.state(userId);
    const view = { holds: (p: string, st: Stats) => s.cache.get(p, st) !== undefined, paths: () => s.cache.paths() };
    if (!(await foldersUnchanged(this.core.workspaceDir(userId), marks, view))) return false;
    // Asked after the folder check: a change the watcher recorded into the view during that check
    // holds it busy until the change is announced, so the cursor below has moved by then.
    const settled = this.core.opts.agentSettled;
    if (settled && !settled(userId)) return false;
    return (await this.core.journal.cursor(userId)) === cursor;
  }

  /**
   * A background verification walk (verify-walk.ts): a listing nobody waits for. It counts as work
   * in flight, so close() lets it finish, and none starts once the store is closing (it would
   * write the hash cache into a data dir that may be going away).
   */
  async verify(userId: string): Promise<void> {
    if (this.core.isClosing) return;
    await this.core.track(this.list(userId));
  }

  /** When this instance last started a full walk of the user's workspace (epoch ms). */
  lastWalkAt(userId: string): number | undefined {
    return this.walkedAt.get(userId);
  }

  async stat(userId: string, path: string): Promise<FileEntry | undefined> {
    const p = validPath(path, false);
    const s = await this.core.state(userId);
    const loc = await locate(this.core.workspaceDir(userId), p);
    if (!loc.st?.isFile()) return undefined;
    const r = await s.cache.hashOf(p, loc.abs, { remember: false });
    return r ? entry(p, r.hash, r.st) : undefined;
  }

  async read(userId: string, path: string): Promise<{ entry: FileEntry; stream: Readable }> {
    const p = validPath(path, false);
    const s = await this.core.state(userId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const loc = await locate(this.core.workspaceDir(userId), p);
      if (!loc.st?.isFile()) throw new StoreError('not_found', 'no such file');
      const r = await s.cache.hashOf(p, loc.abs, { remember: false });
      if (!r) continue;
      // Open without following a symlink swapped in meanwhile, then make sure the open file is the one hashed.
      let fh;
      try {
        fh = await open(loc.abs, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
      } catch {
        // vanished or swapped for a symlink since the lookup: look it up again
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
}

/**
 * A listing announces its contents: each one the content store has no copy of yet is copied now,
 * before the listing is answered (contents.ts), so an agent overwrite after it loses nothing. A
 * file that changes while being copied is left to the watcher, which records its new content.
 */
async function copyAnnounced(s: UserState, root: string, files: readonly FileEntry[], onDisk: ReadonlyMap<string, string>, log: Logger): Promise<void> {
  const missing: FileEntry[] = [];
  for (const f of files) if (!(await s.contents.has(f.hash))) missing.push(f);
  if (missing.length === 0) return;
  const limit = pLimit(8);
  await Promise.all(
    missing.map((f) =>
      limit(async () => {
        const snap = await s.contents.snapshot(join(root, onDisk.get(f.path) ?? f.path)).catch((err: unknown) => {
          log.warn({ err }, 'could not copy a listed content into the content store');
          return undefined;
        });
        if (snap && snap.hash !== f.hash) log.debug('a listed file changed while it was copied; the watcher records its new content');
      }),
    ),
  );
}

/** Bytes in the user's workspace: the cached count, or a walk when there is none. */
export async function usageOf(core: StoreCore, userId: string, s: UserState): Promise<number> {
  if (s.usage === undefined) {
    let total = 0;
    const root = core.workspaceDir(userId);
    for (const rel of await walkFiles(root, core.log)) {
      const st = await lstat(join(root, rel)).catch(() => undefined); // gone since the walk: not counted
      if (st?.isFile()) total += st.size;
    }
    s.usage = total;
  }
  return s.usage;
}

/**
 * Regular files under `root`, relative and `/`-separated; symlinks are skipped, never followed.
 * With `marks`, each folder's mark is taken just before it is read (folder-marks.ts).
 */
export async function walkFiles(root: string, log: Logger, marks?: FolderMarks): Promise<string[]> {
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
