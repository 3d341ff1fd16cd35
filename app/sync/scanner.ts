// Local scanner: walks the folder with lstat (symlinks are never followed), skips ignored paths,
// and hashes only what the cache cannot vouch for (keyed by size/mtime/inode), so a no-change
// round hashes nothing. A file that changes while it is hashed is skipped this round
// (docs/SYNC-SPEC.md invariant 8) and picked up by a later one.
import { lstat, readdir } from 'node:fs/promises';
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { hashFile } from '../../shared/node/hash.ts';
import type { IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { pathKey } from '../../shared/paths.ts';
import type { CacheEntry } from './state.ts';

/** Our own temp files (downloads in flight, atomic writes): never synced. */
export const TEMP_SUFFIX = '.youlab-tmp';

export interface LocalFile {
  /** NFC key under which paths are compared. */
  key: string;
  /** Relative path as the OS spelled it on disk. */
  rel: string;
  hash: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface ScanResult {
  root: 'ok' | 'missing' | 'empty';
  files: Map<string, LocalFile>;
  /** NFC keys of folders (for file/folder clashes). */
  dirs: Set<string>;
  /** The cache to keep: exactly the files seen this scan. */
  cache: Record<string, CacheEntry>;
  /** Files that changed while being read: retried next round. */
  unstable: string[];
  /** A second on-disk spelling (NFC vs NFD) of a key already taken. */
  twins: LocalFile[];
  /** Leftover temp files of an interrupted transfer. */
  temps: string[];
  /** How many files were hashed (0 on a no-change scan). */
  hashed: number;
}

export interface ScanOptions {
  ignore: IgnoreMatcher;
  cache: Readonly<Record<string, CacheEntry>>;
  /** Injected for tests that count hash calls. */
  hash?: (absPath: string) => Promise<string>;
}

export async function scanLocal(root: string, opts: ScanOptions): Promise<ScanResult> {
  const hash = opts.hash ?? hashFile;
  const result: ScanResult = {
    root: 'ok',
    files: new Map(),
    dirs: new Set(),
    cache: {},
    unstable: [],
    twins: [],
    temps: [],
    hashed: 0,
  };
  let rootStat: Stats;
  try {
    rootStat = await lstat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ...result, root: 'missing' };
    throw e;
  }
  if (!rootStat.isDirectory()) return { ...result, root: 'missing' };

  const statMode = { sync: true, slow: 0 };
  const limit = pLimit(HASH_PARALLEL);
  const walk = async (relDir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(relDir ? join(root, relDir) : root);
    } catch (e) {
      // A folder removed while walking is simply gone this round.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    names.sort();
    const paths = names.map((name) => join(root, relDir ? `${relDir}/${name}` : name));
    const stats = await statAll(paths, statMode);
    // First the entries in name order (folders are walked after this folder's files), then the
    // files' hashes: cached ones at once, the others HASH_PARALLEL at a time (one by one, a first
    // scan of 10,000 small files is ~0.5 ms of waiting each), then assembled in name order, so
    // the result never depends on which hash finished first.
    const { files, subdirs } = folderEntries(relDir, names, paths, stats, opts, result);
    const hashed = await Promise.all(files.map((f) => (isCached(f.cached, f.st) ? undefined : limit(() => hashStable(f.abs, f.rel, f.st, hash, result)))));
    for (const [k, f] of files.entries()) {
      const file = hashed[k] === undefined && isCached(f.cached, f.st) ? fromCache(f.rel, f.st, f.cached!) : hashed[k];
      if (file) addFile(result, f.rel, f.cached, file);
    }
    for (const rel of subdirs) await walk(rel);
  };
  await walk('');
  if (result.files.size === 0 && result.unstable.length === 0 && result.twins.length === 0) result.root = 'empty';
  return result;
}

type FoundFile = { rel: string; abs: string; st: Stats; cached: CacheEntry | undefined };

/** One folder's entries in name order: the files to hash or take from the cache, and the folders to walk. */
function folderEntries(
  relDir: string,
  names: readonly string[],
  paths: readonly string[],
  stats: readonly (Stats | undefined)[],
  opts: ScanOptions,
  result: ScanResult,
): { files: FoundFile[]; subdirs: string[] } {
  const files: FoundFile[] = [];
  const subdirs: string[] = [];
  for (const [i, name] of names.entries()) {
    const rel = relDir ? `${relDir}/${name}` : name;
    const abs = paths[i]!;
    const st: Stats | undefined = stats[i];
    if (!st) continue;
    if (st.isSymbolicLink()) continue;
    if (name.endsWith(TEMP_SUFFIX)) {
      if (st.isFile()) result.temps.push(rel);
      continue;
    }
    if (st.isDirectory()) {
      if (opts.ignore.ignores(rel, true)) continue;
      result.dirs.add(pathKey(rel));
      subdirs.push(rel);
      continue;
    }
    if (!st.isFile() || opts.ignore.ignores(rel)) continue;
    files.push({ rel, abs, st, cached: opts.cache[rel] });
  }
  return { files, subdirs };
}

function addFile(result: ScanResult, rel: string, cached: CacheEntry | undefined, file: LocalFile): void {
  const prior = result.files.get(file.key);
  if (!prior) result.files.set(file.key, file);
  else if (prior.rel !== prior.key && file.rel === file.key) {
    // The NFC spelling keeps the key; the other spelling is the twin to move aside.
    result.files.set(file.key, file);
    result.twins.push(prior);
  } else result.twins.push(file);
  // The same entry object when nothing changed: the state compares the new cache with the old
  // one after the round (state-tracking.ts), and identical entries compare at once.
  result.cache[rel] = cached && cached.hash === file.hash && cacheHolds(cached, file) ? cached : { size: file.size, mtime_ms: file.mtimeMs, ino: file.ino, hash: file.hash };
}

/** Files hashed at once during a scan: enough to keep the thread pool and the disk queue busy. */
const HASH_PARALLEL = 8;

function isCached(cached: CacheEntry | undefined, st: Stats): boolean {
  return cached !== undefined && cacheHolds(cached, st);
}

function fromCache(rel: string, st: Stats, cached: CacheEntry): LocalFile {
  return { key: pathKey(rel), rel, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: cached.hash };
}

/** Batches of synchronous stats that take longer than this mean a slow disk (three of them: go async). */
const SYNC_BATCH_MS = 20;
const SLOW_BATCHES = 3;
const STAT_BATCH = 256;

/**
 * lstat of every path (undefined for one that cannot be stat'ed). A no-change round is a stat per
 * file, and with the inodes in the page cache a synchronous lstat costs a few µs where an async one
 * costs 20-40 µs of thread-pool round trip (10,000 files: ~50 ms against ~200 ms here). So stats
 * are synchronous in batches, yielding to the event loop between batches; batches that take over
 * SYNC_BATCH_MS (a cold cache, a network or slow disk) switch the rest of the scan to async
 * stats, up to 256 in flight, so the event loop is never held for long.
 */
async function statAll(paths: readonly string[], mode: { sync: boolean; slow: number }): Promise<(Stats | undefined)[]> {
  const out: (Stats | undefined)[] = [];
  for (let i = 0; i < paths.length; i += STAT_BATCH) {
    const chunk = paths.slice(i, i + STAT_BATCH);
    if (mode.sync) {
      const t0 = performance.now();
      for (const p of chunk) {
        try {
          out.push(lstatSync(p, { throwIfNoEntry: false }));
        } catch {
          out.push(undefined);
        }
      }
      // Three, not one: a garbage-collection pause inside one batch is not a slow disk.
      if (performance.now() - t0 > SYNC_BATCH_MS && ++mode.slow >= SLOW_BATCHES) mode.sync = false;
      if (i + STAT_BATCH < paths.length) await new Promise((r) => setImmediate(r));
    } else {
      out.push(...(await Promise.all(chunk.map((p) => lstat(p).catch(() => undefined))))); // vanished or unreadable since the walk: not in this scan
    }
  }
  return out;
}

/** Hashes a file the cache cannot vouch for; undefined when it vanished or changed while read. */
async function hashStable(abs: string, rel: string, st: Stats, hash: (p: string, size: number) => Promise<string>, result: ScanResult): Promise<LocalFile | undefined> {
  const base = { key: pathKey(rel), rel, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  let h: string;
  try {
    h = await hash(abs, st.size);
    result.hashed++;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const after = await lstat(abs).catch(() => undefined); // vanished while hashed: unstable, retried next round
  if (!after || !sameStat(st, after)) {
    result.unstable.push(rel);
    return undefined;
  }
  return { ...base, hash: h };
}

/** A cache entry vouches for a file whose size, mtime and inode it recorded. */
export function cacheHolds(c: CacheEntry, st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): boolean {
  return c.size === st.size && c.mtime_ms === st.mtimeMs && c.ino === st.ino;
}

export function sameStat(a: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>, b: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
