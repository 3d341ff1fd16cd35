// The locked half of the write pipeline (write-pipeline.ts): received uploads, already in fsynced
// temp files, are checked against what is on disk and put in place under the user's lock. One
// file (PUT) and a batch (POST /bulk) take the same path, so both have the same semantics.
import type { Stats } from 'node:fs';
import { lstat, mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { fsyncDir } from '../../shared/node/atomic-fs.ts';
import type { PutResult } from '../../shared/protocol.ts';
import { StoreError } from '../store-error.ts';
import { locate, LocateCache, type Located } from './fs-paths.ts';
import { statKey } from './hash-cache.ts';
import { usageOf } from './listing.ts';
import { wouldExceedQuota } from './quota.ts';
import { holdReplaced, keepReplaced, releaseHeld } from './replaced.ts';
import { entry, type StoreCore, type UserState } from './store-core.ts';
import type { WriteOptions } from './types.ts';
import { checkPreconditions, independentGroups } from './write-plan.ts';

/** The outcome of one batch item: what `write()` would have returned, or thrown. */
export type BatchResult = { ok: true; entry: PutResult } | { ok: false; error: unknown };

/** An upload received into a temp file (fsynced), ready to be applied under the lock. */
export interface Prepared {
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
export const BATCH_IO_PARALLEL = 16;

/** One run of `applyLocked`: what every step of it works on. */
interface Apply {
  core: StoreCore;
  userId: string;
  s: UserState;
  lease: { assertHeld(): void };
  root: string;
  limit: LimitFunction;
  results: BatchResult[];
  moved: Set<string>;
}

/** What is at an item's path now: the lookup and, for a file, its hash and stat. */
interface Found {
  loc: Located;
  cur: { hash: string; st: Stats } | undefined;
}

/** An item that passed its checks and will replace (`cur`) or create the file at `abs`. */
interface Accepted {
  it: Prepared;
  abs: string;
  cur?: { hash: string; st: Stats };
}

function fail(a: Apply, i: number, error: unknown): void {
  a.results[i] = { ok: false, error };
}

/**
 * Applies received uploads (temp files, in request order) under the user's lock, exactly as if
 * one after another: group by group of paths that cannot affect each other, each group is
 * located in parallel, decided in order (preconditions, same bytes, quota counted across the
 * batch), renamed in parallel, then each touched folder is fsynced once, and only then are the
 * changes cached and announced, in order. Sets `results[item.i]`; adds renamed temps to `moved`.
 */
export async function applyLocked(
  core: StoreCore,
  userId: string,
  s: UserState,
  lease: { assertHeld(): void },
  prepared: readonly Prepared[],
  results: BatchResult[],
  moved: Set<string>,
): Promise<void> {
  const a: Apply = { core, userId, s, lease, root: core.workspaceDir(userId), limit: pLimit(BATCH_IO_PARALLEL), results, moved };
  for (const group of independentGroups(prepared.map((x) => x.p))) {
    const items = group.map((k) => prepared[k]!);
    const found = await locateGroup(a, items);
    const decided = await decideGroup(a, items, found);
    if (!decided) continue;
    const done = await renameGroup(a, decided.accepted);
    const stats = await syncAndStat(a, done);
    const delta = await announceGroup(a, done, stats);
    s.usage = decided.base + delta;
    core.scheduleSave(s);
  }
}

/** 1. What is there now (parallel: the paths of a group are independent). */
function locateGroup(a: Apply, items: readonly Prepared[]): Promise<(Found | undefined)[]> {
  // Fresh per group: the lookups of a group all happen before any of its writes.
  const lookups = new LocateCache();
  return Promise.all(
    items.map((it) =>
      a.limit(async () => {
        try {
          const loc = await locate(a.root, it.p, lookups);
          if (loc.st?.isSymbolicLink()) throw new StoreError('conflict', 'a symlink occupies this path; the hub does not write through symlinks');
          if (loc.st?.isDirectory()) throw new StoreError('conflict', 'a folder exists at this path');
          if (loc.st && !loc.st.isFile()) throw new StoreError('conflict', 'something other than a file exists at this path');
          const cur = loc.st ? await a.s.cache.hashOf(it.p, loc.abs, { remember: false }) : undefined;
          return { loc, cur };
        } catch (error) {
          fail(a, it.i, error);
          return undefined;
        }
      }),
    ),
  );
}

/**
 * 2. Decide in request order; the quota sees every earlier acceptance of the batch. Undefined
 * when nothing is left to write; else the accepted items and the usage before them (`base`).
 */
async function decideGroup(
  a: Apply,
  items: readonly Prepared[],
  found: readonly (Found | undefined)[],
): Promise<{ accepted: Accepted[]; base: number } | undefined> {
  const max = a.core.opts.maxWorkspaceBytes;
  const accepted: Accepted[] = [];
  let base: number | undefined;
  let used = 0;
  for (const [k, it] of items.entries()) {
    const f = found[k];
    if (!f) continue;
    try {
      checkPreconditions(f.cur?.hash, it.opts.ifMatch, it.opts.ifNoneMatch);
      if (f.cur && f.cur.hash === it.hash) {
        // Same bytes: nothing to replace, nothing to announce (idempotent re-upload).
        a.results[it.i] = { ok: true, entry: entry(it.p, it.hash, f.cur.st) };
        continue;
      }
      if (base === undefined) used = base = await usageOf(a.core, a.userId, a.s);
      const replaced = f.cur?.st.size ?? 0;
      if (wouldExceedQuota({ usedBytes: used, replacedBytes: replaced, newBytes: it.size, quotaBytes: max })) {
        throw new StoreError('quota_exceeded', `workspace quota of ${max} bytes would be exceeded`);
      }
      used += it.size - replaced;
      accepted.push({ it, abs: f.loc.abs, ...(f.cur ? { cur: f.cur } : {}) });
    } catch (error) {
      fail(a, it.i, error);
    }
  }
  if (accepted.length === 0 || base === undefined) return undefined;
  return { accepted, base };
}

/** 3. Keep the replaced content, make the folders (once each), rename: parallel. Answers the items renamed. */
async function renameGroup(a: Apply, accepted: readonly Accepted[]): Promise<Accepted[]> {
  const { s } = a;
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
      a.limit(async () => {
        try {
          const replaced = cur ? { path: it.p, abs, cur, reason: 'overwrite' as const, origin: it.opts.origin ?? it.opts.source } : undefined;
          if (replaced) await keepReplaced(s, replaced);
          const hold = replaced ? await holdReplaced(a.core, a.userId, abs) : undefined;
          // From the temp file, which nobody else writes: the agent may later overwrite the
          // workspace file in place, and this copy is then what keeps the content (contents.ts).
          await s.contents.keepPrivate(it.tmp, it.hash);
          await mkdirOnce(dirname(abs));
          a.lease.assertHeld();
          s.known.set(it.p, it.hash);
          // Before the rename, so the watcher can never see this file before knowing it as ours
          // (a rename keeps inode, size and mtime).
          s.recorded.set(it.p, statKey(it.st));
          s.generation++;
          try {
            await rename(it.tmp, abs);
          } finally {
            if (replaced) await releaseHeld(a.core, s, a.userId, hold, replaced);
          }
          a.moved.add(it.tmp);
          return true;
        } catch (error) {
          fail(a, it.i, error);
          return false;
        }
      }),
    ),
  );
  return accepted.filter((_, k) => renamed[k]);
}

/** 4. One fsync per touched folder makes the renames durable before anything is announced. */
async function syncAndStat(a: Apply, done: readonly Accepted[]): Promise<({ st: Stats } | { error: unknown })[]> {
  await Promise.all([...new Set(done.map((d) => dirname(d.abs)))].map((dir) => a.limit(() => fsyncDir(dir))));
  return Promise.all(done.map((d) => a.limit(() => lstat(d.abs).then((st) => ({ st }), (error: unknown) => ({ error })))));
}

/** 5. Cache, usage and the feed, in request order; each change announced once. Answers the usage delta. */
async function announceGroup(a: Apply, done: readonly Accepted[], stats: readonly ({ st: Stats } | { error: unknown })[]): Promise<number> {
  let delta = 0;
  for (const [k, { it, cur }] of done.entries()) {
    delta += it.size - (cur?.st.size ?? 0);
    const got = stats[k]!;
    if (!('st' in got)) {
      fail(a, it.i, got.error);
      continue;
    }
    // The temp file's stat, not the one just taken: the rename kept inode, size and mtime, and an
    // agent write that lands in the workspace file between the rename and that lstat must not be
    // recorded as this upload's content (the cache would then hide it from every later walk).
    const st = it.st;
    a.s.cache.set(it.p, st, it.hash);
    const result = entry(it.p, it.hash, st);
    try {
      await a.core.emit(a.userId, { ...result, source: it.opts.source, ...(it.opts.origin !== undefined ? { origin: it.opts.origin } : {}) });
      a.results[it.i] = { ok: true, entry: result };
    } catch (error) {
      fail(a, it.i, error);
    }
  }
  return delta;
}
