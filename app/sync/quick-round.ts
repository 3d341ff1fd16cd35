// A targeted round for the few paths the watcher or the change feed just named, so one saved
// file reaches the hub (and one agent write reaches the folder) without a scan of the whole folder
// and a full hub listing. It decides with the same planner and runs with the same executor, and
// it only ever acts when the answer is simple: uploads, downloads and a handful of deletes, each
// conditional on the base (If-Match / If-None-Match, expected local hash). Anything else (a
// conflict, a clash, a folder, a file still being written, a 412) is left to the full round,
// which stays the safety net and is asked for whenever this one says so.
import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { hashFile } from '../../shared/node/hash.ts';
import { YOULABIGNORE, type IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { parentsOf, pathKey } from '../../shared/paths.ts';
import type { FileEntry } from '../../shared/protocol.ts';
import { executeSteps } from './executor.ts';
import { planRound, type PlanRemoteFile, type PlanStepKind } from './plan.ts';
import type { RoundContext } from './round-context.ts';
import { TEMP_SUFFIX, cacheHolds, sameStat, type LocalFile } from './scanner.ts';
import type { CacheEntry } from './state.ts';

/** Above this many paths a full round is as cheap and surely right. */
export const QUICK_MAX_PATHS = 64;
/** Below the mass-delete guard's minimum, so the guard can never be bypassed here. */
const QUICK_MAX_DELETES = 9;

/** What the change feed said a path now holds on the hub (null: deleted). */
export type RemoteHint = { hash: string | null; size?: number; modified?: string };

export interface QuickResult {
  /** The full round must run (something here was not simple, or a step asked for another round). */
  needFull: boolean;
  uploaded: number;
  downloaded: number;
  deleted: number;
}

const FULL: QuickResult = { needFull: true, uploaded: 0, downloaded: 0, deleted: 0 };

/**
 * `local`: relative paths the watcher saw change; `remote`: paths the feed announced. A path
 * only the watcher named is assumed unchanged on the hub since the base; the conditional
 * request is what checks that.
 */
export async function runQuickRound(
  ctx: RoundContext & { ignore: IgnoreMatcher },
  local: ReadonlySet<string>,
  remote: ReadonlyMap<string, RemoteHint>,
): Promise<QuickResult> {
  const { state } = ctx;
  const keys = new Set<string>();
  for (const rel of local) keys.add(rel);
  for (const k of remote.keys()) keys.add(k);
  if (keys.size === 0) return { needFull: false, uploaded: 0, downloaded: 0, deleted: 0 };
  if (keys.size > QUICK_MAX_PATHS || state.conflicts.length > 0) return FULL;
  // The rule file changes what every other path does: the full round brings it first (plan.ts).
  if (keys.has(YOULABIGNORE)) return FULL;
  const rootSt = await lstat(ctx.folder).catch(() => undefined); // missing root: the full round decides (and reports) it
  if (!rootSt?.isDirectory()) return FULL;

  const base = new Map<string, string>();
  const files = new Map<string, LocalFile>();
  const remoteMap = new Map<string, FileEntry>();
  const cache: Record<string, CacheEntry> = {};
  for (const key of keys) {
    // Only NFC names without a file among their parents: the full round owns spellings and clashes.
    if (key !== pathKey(key) || key.endsWith(TEMP_SUFFIX) || ctx.ignore.ignores(key)) return FULL;
    if (parentsOf(key).some((p) => state.base[p] !== undefined)) return FULL;
    const b = state.base[key];
    if (b !== undefined) base.set(key, b);
    const st = await lstat(join(ctx.folder, key)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : undefined));
    if (st === undefined || (st && !st.isFile())) return FULL;
    if (st) {
      const f = await hashKnown(ctx, key, st);
      if (!f) return FULL;
      files.set(key, f);
      cache[key] = { size: f.size, mtime_ms: f.mtimeMs, ino: f.ino, hash: f.hash };
    }
    const hint = remote.get(key);
    if (hint) {
      if (hint.hash !== null) remoteMap.set(key, { path: key, hash: hint.hash, size: hint.size ?? 0, modified: hint.modified ?? '' } as FileEntry);
    } else if (b !== undefined) {
      remoteMap.set(key, { path: key, hash: b, size: 0, modified: '' } as FileEntry);
    }
  }

  const now = ctx.now ?? (() => new Date());
  const plan = planRound({
    base,
    local: files,
    localDirs: new Set(),
    remote: remoteMap as ReadonlyMap<string, PlanRemoteFile>,
    failures: state.failures,
    device: ctx.device,
    now: now(),
    localRoot: 'ok',
    // A name this computer cannot hold plans a skip, which the full round reports.
    ...(ctx.localOs ? { localOs: ctx.localOs } : {}),
  });
  // A new name on a case-insensitive folder may clash with a file this quick round did not look at.
  if (ctx.caseInsensitive && plan.steps.some((s) => s.kind === 'download' && s.expectLocal === undefined)) return FULL;
  const simple = new Set<PlanStepKind>(['upload', 'download', 'delete-remote', 'delete-local', 'record-base', 'drop-base']);
  if (plan.guard.stop || plan.steps.some((s) => !simple.has(s.kind))) return FULL;
  if (plan.steps.filter((s) => s.kind === 'delete-local' || s.kind === 'delete-remote').length > QUICK_MAX_DELETES) return FULL;

  // No move-asides here (not simple): deletes, then the folders they emptied, then the rest.
  const done = await executeSteps(ctx, { local: files, remote: remoteMap }, plan.steps, now);

  for (const [rel, c] of Object.entries(cache)) state.cache[rel] = c;
  Object.assign(state.cache, done.cacheUpdates);
  for (const rel of done.cacheDrops) delete state.cache[rel];
  for (const key of keys) if (!files.has(key) && !done.cacheUpdates[key]) delete state.cache[key];
  await ctx.store.save(state);
  const r = done.result;
  return { needFull: r.again || r.failed > 0 || r.issues.length > 0, uploaded: r.uploaded, downloaded: r.downloaded, deleted: r.deleted };
}

/** The file's hash from the cache, or hashed now; undefined when it changed while being read. */
async function hashKnown(ctx: RoundContext, rel: string, st: Stats): Promise<LocalFile | undefined> {
  const base = { key: rel, rel, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  const cached = ctx.state.cache[rel];
  if (cached && cacheHolds(cached, st)) return { ...base, hash: cached.hash };
  const h = await (ctx.hashFile ?? hashFile)(join(ctx.folder, rel)).catch(() => undefined); // vanished or unreadable: the full round looks again
  if (!h) return undefined;
  const after = await lstat(join(ctx.folder, rel)).catch(() => undefined); // vanished: the full round looks again
  if (!after || !sameStat(st, after)) return undefined;
  return { ...base, hash: h };
}
