// One sync round: scan the folder, list the hub, plan (pure), guard, then execute with modest
// concurrency (executor.ts). Deletes run before writes so renames and file<->folder changes free
// their names first. A round never trusts memory from an earlier one: base + folder + listing is
// the truth.
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pathKey } from '../../shared/paths.ts';
import type { FileEntry, FileList } from '../../shared/protocol.ts';
import { settleCleanCursor, usableCleanCursor, type RoundEnd } from './clean-cursor.ts';
import { executeSteps, type Execution } from './executor.ts';
import { planRound, type Plan, type PlanInput } from './plan.ts';
import { RoundError, type RoundContext, type RoundResult } from './round-context.ts';
import { scanLocal, type ScanResult } from './scanner.ts';

type Listing = FileList | { notModified: true; cursor: string };

export async function runRound(ctx: RoundContext): Promise<RoundResult> {
  const now = ctx.now ?? (() => new Date());
  const { state } = ctx;
  // The listing is asked for while the folder is scanned: the two are independent (the hub takes
  // its cursor before walking, so a hub change during either is announced again by the feed).
  const clean = usableCleanCursor(state, ctx.ignore);
  const listed = clean === undefined ? ctx.hub.list() : ctx.hub.listIfChanged(clean);
  listed.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled meanwhile
  const { scan, baseMap } = await scanFolder(ctx);
  const kept = keptBy(scan, ctx);
  const listing = await fullIfHiddenFound(ctx, await listed, kept);
  const remote = remoteView(listing, baseMap, kept);
  // A file that changed while it was hashed is not in the scan. Planned like the others, a synced
  // one would read as deleted here and its delete would go to the hub (docs/SYNC-SPEC.md invariant
  // 8): this round takes no decision on it at all, the next one reads it again.
  for (const rel of scan.unstable) {
    baseMap.delete(pathKey(rel));
    remote.delete(pathKey(rel));
  }

  const input: PlanInput = {
    base: baseMap,
    local: scan.files,
    localDirs: scan.dirs,
    remote,
    twins: scan.twins,
    failures: state.failures,
    device: ctx.device,
    now: now(),
    localRoot: scan.root,
    ...(ctx.caseInsensitive !== undefined ? { caseInsensitive: ctx.caseInsensitive } : {}),
    ...(ctx.localOs ? { localOs: ctx.localOs } : {}),
    ...(ctx.guardThreshold !== undefined ? { guardThreshold: ctx.guardThreshold } : {}),
  };
  const plan = guard(ctx, planRound(input), input, baseMap);

  const done = await executeSteps(ctx, { local: scan.files, remote }, plan.steps, now);
  await persist(ctx, scan, done, {
    listing,
    steps: plan.steps,
    again: done.result.again,
    failed: done.result.failed,
    kept,
  });

  const moved = plan.steps.some((s) => s.kind === 'move-aside');
  return {
    ...done.result,
    work: plan.work,
    again: done.result.again || moved || scan.unstable.length > 0,
    unstable: scan.unstable.length,
    cursor: listing.cursor,
  };
}

/** The folder's files, and the base of the paths the round syncs; a folder that vanished with a base stops the round. */
async function scanFolder(ctx: RoundContext): Promise<{ scan: ScanResult; baseMap: Map<string, string> }> {
  const { state } = ctx;
  let scan = await scanLocal(ctx.folder, { ignore: ctx.ignore, cache: state.cache, ...(ctx.hashFile ? { hash: ctx.hashFile } : {}) });
  const kept = keptBy(scan, ctx);
  const baseMap = new Map(Object.entries(state.base).filter(([k]) => kept(k)));
  if (scan.root === 'missing') {
    if (baseMap.size > 0) {
      throw new RoundError(
        'folder_missing',
        `the local folder ${ctx.folder} is missing while the last sync had ${baseMap.size} files; nothing was deleted`,
        'Reconnect or restore the folder (or point --folder at the right place), then sync again.',
      );
    }
    await mkdir(ctx.folder, { recursive: true });
    scan = await scanLocal(ctx.folder, { ignore: ctx.ignore, cache: state.cache });
  }
  for (const t of scan.temps) await unlink(join(ctx.folder, t)).catch(() => {}); // a leftover temp that cannot go now goes next round
  return { scan, baseMap };
}

/**
 * The paths the round syncs. A path the scan found as a file passed the ignore rules already;
 * only the others are asked (100,000 ignore checks cost ~0.2 s, twice: base and listing).
 */
function keptBy(scan: ScanResult, ctx: RoundContext): (k: string) => boolean {
  return (k) => scan.files.has(k) || !ctx.ignore.ignores(k);
}

async function fullIfHiddenFound(ctx: RoundContext, listing: Listing, kept: (k: string) => boolean): Promise<Listing> {
  if ('notModified' in listing && (ctx.state.clean_hidden ?? []).some(kept)) {
    // A path the rules hid when the clean cursor was set is synced now (the scan found it): its
    // hub side was never compared with base, so this round needs the full listing after all.
    return ctx.hub.list();
  }
  return listing;
}

function remoteView(listing: Listing, baseMap: ReadonlyMap<string, string>, kept: (k: string) => boolean): Map<string, FileEntry> {
  const remoteEntries = new Map<string, FileEntry>();
  if ('notModified' in listing) {
    // 304: the hub holds exactly `base` (see usableCleanCursor), so the base is the remote view.
    // Every remote step planned from it is still conditional on that base (If-Match / If-None-Match).
    for (const [key, hash] of baseMap) remoteEntries.set(key, { path: key, hash, size: 0, modified: '' } as FileEntry);
  } else {
    for (const f of listing.files) {
      const key = pathKey(f.path);
      if (kept(key)) remoteEntries.set(key, f);
    }
  }
  return remoteEntries;
}

export const GUARD_HINT =
  'Bring them back (desktop app: Recent activity, "Bring them back"; command line: youlab-sync --once --restore-deleted), ' +
  'or, if the deletes are intended, delete them on the other side too ("Delete them on the hub too"; youlab-sync --once --allow-mass-delete). ' +
  'Either way nothing is lost: the hub keeps deleted versions, this computer its trash.';

/**
 * The mass-delete guard (shared/reconcile.ts): a plan that deletes too much stops unless the user
 * answered. 'delete' lets the plan run. 'restore' forgets the base of every path the plan would
 * delete, so the decision table reads each as new on the side that still holds it and copies it
 * back (a download here, or an upload of this folder's copy to the hub), and plans again.
 */
function guard(ctx: RoundContext, plan: Plan, input: PlanInput, baseMap: Map<string, string>): Plan {
  if (!plan.guard.stop || ctx.guardAnswer === 'delete') return plan;
  const deletes = plan.steps.filter((s) => s.kind === 'delete-remote' || s.kind === 'delete-local');
  if (ctx.guardAnswer === 'restore') {
    for (const s of deletes) {
      baseMap.delete(s.key);
      delete ctx.state.base[s.key];
    }
    return planRound(input);
  }
  const onHub = deletes.filter((s) => s.kind === 'delete-remote').length;
  const where = onHub * 2 >= deletes.length ? 'hub' : 'local';
  const count = where === 'hub' ? onHub : deletes.length - onHub;
  const told = where === 'hub' ? `${count} files are gone from this folder` : `${count} files are gone from the hub`;
  const err = new RoundError('mass_delete', `sync stopped: ${told}, and ${plan.guard.reason}; nothing was deleted`, GUARD_HINT);
  err.deletes = { where, count, of: baseMap.size };
  throw err;
}

async function persist(ctx: RoundContext, scan: ScanResult, done: Execution, end: RoundEnd): Promise<void> {
  const { state } = ctx;
  // Cache exactly what the folder holds now (scan + what this round wrote), then persist. One
  // assignment: the state's change tracking compares it with the old cache (state-tracking.ts),
  // so an unchanged folder writes nothing.
  let cache = scan.cache;
  if (Object.keys(done.cacheUpdates).length > 0 || done.cacheDrops.size > 0) {
    cache = { ...scan.cache, ...done.cacheUpdates };
    for (const rel of done.cacheDrops) delete cache[rel];
  }
  state.cache = cache;
  // A failure is forgotten once its file is gone; one being written right now (unstable) is not gone.
  const unsettled = new Set(scan.unstable.map((rel) => pathKey(rel)));
  for (const key of Object.keys(state.failures)) {
    if (!scan.files.has(key) && !unsettled.has(key)) delete state.failures[key];
  }
  settleCleanCursor(state, end);
  await ctx.store.save(state);
}
