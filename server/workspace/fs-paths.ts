// Mapping a validated workspace path onto the filesystem without ever following a symlink:
// every parent component is lstat'ed, and a path can only name something inside the root.
// Lookups are NFC-tolerant: a name the agent wrote in NFD is found under its NFC path.
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { checkPath, pathKey } from '../../shared/paths.ts';
import { StoreError } from '../store-error.ts';

export interface Located {
  /** Absolute path on disk (existing names as the OS spelled them, new ones in NFC). */
  abs: string;
  /** NFC workspace path. */
  path: string;
  /** lstat of the target, when it exists. */
  st?: Stats;
}

/** Validates `input` and returns its NFC form; throws StoreError('bad_path'). */
export function validPath(input: string, forUpload: boolean): string {
  const c = checkPath(input, { forUpload });
  if (!c.ok) throw new StoreError('bad_path', `bad path: ${c.reason}`);
  return c.path;
}

/** Joins without resolving; refuses anything that would land outside `root`. */
export function joinInside(root: string, segments: string[]): string {
  const abs = join(root, ...segments);
  if (!abs.startsWith(root + sep)) throw new StoreError('bad_path', 'path escapes the workspace');
  return abs;
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Lookups shared by the files of one batch while the write lock is held: the root check once,
 * each lstat once, and each folder's listing (for the NFC fallback below) once, where file by
 * file a folder receiving 100 new files would be listed 100 times. Valid only while the batch
 * itself changes nothing on disk: one group of independent paths, before any of it is written.
 */
export class LocateCache {
  rootChecked: Promise<void> | undefined;
  readonly stats = new Map<string, Promise<Stats | undefined>>();
  readonly listings = new Map<string, Promise<Map<string, string[]> | undefined>>();
}

function cachedLstat(p: string, cache: LocateCache | undefined): Promise<Stats | undefined> {
  if (!cache) return lstatOrUndefined(p);
  let st = cache.stats.get(p);
  if (!st) cache.stats.set(p, (st = lstatOrUndefined(p)));
  return st;
}

/** NFC key -> the names in `dir` with that key; undefined when `dir` cannot be read. */
async function listing(dir: string): Promise<Map<string, string[]> | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    // an unreadable folder holds no NFC twin we could find
    return undefined;
  }
  const byKey = new Map<string, string[]>();
  for (const n of names) {
    const k = pathKey(n);
    const same = byKey.get(k);
    if (same) same.push(n);
    else byKey.set(k, [n]);
  }
  return byKey;
}

/** Finds `seg` in `dir`, exactly or by NFC equality. */
async function findEntry(dir: string, seg: string, cache?: LocateCache): Promise<{ name: string; st: Stats } | undefined> {
  const exact = await cachedLstat(join(dir, seg), cache);
  if (exact) return { name: seg, st: exact };
  let byKey: Promise<Map<string, string[]> | undefined> | undefined = cache?.listings.get(dir);
  if (!byKey) {
    byKey = listing(dir);
    cache?.listings.set(dir, byKey);
  }
  const name = (await byKey)?.get(pathKey(seg))?.find((n) => n !== seg);
  if (!name) return undefined;
  const st = await cachedLstat(join(dir, name), cache);
  return st ? { name, st } : undefined;
}

/**
 * The workspace folder and the user folder above it must be real folders: a symlink there
 * would move the whole workspace outside the data dir, so nothing is read or written through it.
 */
export async function assertRealRoot(root: string): Promise<void> {
  for (const dir of [dirname(root), root]) {
    const st = await lstatOrUndefined(dir);
    if (st && !st.isDirectory()) throw new StoreError('bad_path', 'the workspace folder is not a real folder (a symlink?); refusing to follow it');
  }
}

/**
 * Locates an NFC workspace path under `root`. Throws bad_path when a parent is a symlink and
 * conflict when a parent is a file. The target itself may be anything (the caller decides).
 */
export async function locate(root: string, path: string, cache?: LocateCache): Promise<Located> {
  if (cache) await (cache.rootChecked ??= assertRealRoot(root));
  else await assertRealRoot(root);
  const segments = path.split('/');
  const onDisk: string[] = [];
  let dir = root;
  let missing = false;
  let st: Stats | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const isLast = i === segments.length - 1;
    if (missing) {
      onDisk.push(seg);
      continue;
    }
    const found = await findEntry(dir, seg, cache);
    if (!found) {
      missing = true;
      onDisk.push(seg);
      continue;
    }
    onDisk.push(found.name);
    if (isLast) {
      st = found.st;
      break;
    }
    if (found.st.isSymbolicLink()) throw new StoreError('bad_path', 'path goes through a symlink');
    if (!found.st.isDirectory()) throw new StoreError('conflict', `a parent of this path is a file: ${segments.slice(0, i + 1).join('/')}`);
    dir = join(dir, found.name);
  }
  const abs = joinInside(root, onDisk);
  return st ? { abs, path, st } : { abs, path };
}
