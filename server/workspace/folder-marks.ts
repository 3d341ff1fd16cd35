// Folder marks: what lets a conditional listing answer 304 without trusting the agent watcher to
// have seen every change (issue 19: a folder the agent created a moment ago, or one the watcher
// never learnt of, hid a new file behind a 304).
//
// A folder's mtime changes whenever an entry is added to it, removed from it or renamed in it.
// Each full listing takes a mark of every workspace folder: its mtime, read *before* the folder
// is listed. A 304 is answered only when every marked folder still has its marked mtime, or, where
// it does not (the hub's own writes change folder mtimes too), when the folder's entries are
// exactly what the hub's view holds: every file in it known to the hash cache with the same stat,
// every file the view holds there still present, every new subfolder likewise. In-place edits of
// existing files do not touch any folder; they are the agent watcher's (its per-file watches) and
// the verification walk's (verify-walk.ts).
//
// File-system timestamps are coarse (a clock tick on Linux, 2 s on FAT): an entry added within the
// same tick as the mark's lstat leaves the mtime unchanged. So, as git does for its index, a mark
// taken less than RACY_MS after the folder's mtime proves nothing, and that folder is compared
// with the view at every check until its mtime is old enough.
import { lstatSync, type Dirent, type Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { checkPath, pathKey } from '../../shared/paths.ts';

/** A folder's mtime, and when it was read (epoch ms, taken just before the lstat). */
export interface FolderMark {
  mtimeMs: number;
  seenAt: number;
}

/** Relative folder ('' = the workspace root, else `/`-separated as on disk) -> its mark. */
export type FolderMarks = Map<string, FolderMark>;

/** How old a folder's mtime must be when it is marked for the mark to prove anything. */
export const RACY_MS = 2_000;

/** How many lstats of one folder comparison are in flight at once. */
const PARALLEL = 64;

/** Folders stat'ed synchronously before the event loop is let go. */
const SYNC_BATCH = 512;

/** True when `st` proves that no entry of the marked folder changed since the mark (pure). */
export function markHolds(mark: FolderMark, st: Pick<Stats, 'mtimeMs'> | undefined): boolean {
  return st !== undefined && st.mtimeMs === mark.mtimeMs && mark.seenAt - mark.mtimeMs > RACY_MS;
}

/** Reads a folder's mark; undefined when it is gone or no longer a real folder. */
export async function markOf(abs: string, now: () => number = Date.now): Promise<FolderMark | undefined> {
  const seenAt = now();
  const st = await lstat(abs).catch(() => undefined); // gone or not a folder: no mark
  return st?.isDirectory() ? { mtimeMs: st.mtimeMs, seenAt } : undefined;
}

/** The hub's view of a workspace, as far as a folder check needs it (the hash cache). */
export interface FolderView {
  /** The file at workspace path `path` is the one the hub last listed or announced there (same stat). */
  holds(path: string, st: Stats): boolean;
  /** Every workspace path the view holds. */
  paths(): Iterable<string>;
}

function childRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/**
 * True when no folder of the workspace at `root` gained, lost or renamed an entry that the view
 * does not already reflect. On true, `marks` is brought up to date (folders compared afresh get
 * new marks, vanished ones lose theirs), so the next check is cheap again; on false, `marks` is
 * left as it was and the caller lists the workspace in full (which takes all marks anew).
 */
export async function foldersUnchanged(root: string, marks: FolderMarks, view: FolderView, now: () => number = Date.now): Promise<boolean> {
  const limit = pLimit(PARALLEL);
  const changed: string[] = [];
  const gone: string[] = [];
  // Synchronous lstats, a batch at a time: the inode cache answers each in about a microsecond,
  // where a promise per folder through the 4-thread pool costs ~30 µs (100,000 files in 1,111
  // folders: ~4 ms against ~35 ms). The event loop is let go between batches.
  let k = 0;
  for (const [rel, mark] of marks) {
    const st = lstatSync(rel === '' ? root : join(root, rel), { throwIfNoEntry: false });
    if (!st?.isDirectory()) gone.push(rel);
    else if (!markHolds(mark, st)) changed.push(rel);
    if (++k % SYNC_BATCH === 0) await new Promise((r) => setImmediate(r));
  }
  if (changed.length === 0 && gone.length === 0) return true;

  // The view's files by folder, to find files it holds that are gone from disk.
  const byFolder = new Map<string, Set<string>>();
  for (const p of view.paths()) {
    const cut = p.lastIndexOf('/');
    const folder = cut < 0 ? '' : p.slice(0, cut);
    let set = byFolder.get(folder);
    if (!set) byFolder.set(folder, (set = new Set()));
    set.add(p);
  }
  // A vanished folder is fine only if the view holds no file in it (its subfolders are checked on their own).
  for (const rel of gone) if (byFolder.get(rel)?.size) return false;

  const fresh = new Map<string, FolderMark>();
  const compare = async (rel: string): Promise<boolean> => {
    const abs = rel === '' ? root : join(root, rel);
    const mark = await markOf(abs, now);
    if (!mark) return !byFolder.get(rel)?.size;
    let dirents: Dirent[];
    try {
      dirents = await readdir(abs, { withFileTypes: true });
    } catch {
      // unreadable now: prove nothing, the caller lists in full
      return false;
    }
    const present = new Set<string>();
    const files: { path: string; abs: string }[] = [];
    const newFolders: string[] = [];
    for (const d of dirents) {
      const r = childRel(rel, d.name);
      if (d.isDirectory()) {
        if (!marks.has(r)) newFolders.push(r);
      } else if (d.isFile()) {
        // What a listing would skip (an invalid name, the second of two NFC/NFD twins) is skipped here too.
        const path = pathKey(r);
        if (!checkPath(path).ok || present.has(path)) continue;
        present.add(path);
        files.push({ path, abs: join(abs, d.name) });
      }
    }
    for (const p of byFolder.get(rel) ?? []) if (!present.has(p)) return false;
    const held = await Promise.all(
      files.map((f) =>
        limit(async () => {
          const st = await lstat(f.abs).catch(() => undefined); // gone meanwhile: not what the view holds
          // Gone or replaced since the readdir: not what the view holds, or a change after the mark.
          return st?.isFile() ? view.holds(f.path, st) : false;
        }),
      ),
    );
    if (held.includes(false)) return false;
    fresh.set(rel, mark);
    for (const sub of newFolders) if (!(await compare(sub))) return false;
    return true;
  };
  for (const rel of changed) if (!(await compare(rel))) return false;

  for (const rel of gone) marks.delete(rel);
  for (const [rel, mark] of fresh) marks.set(rel, mark);
  return true;
}
