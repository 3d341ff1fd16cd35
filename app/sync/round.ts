// One sync round: scan the folder, list the hub, plan (pure), guard, then execute with modest
// concurrency. Deletes run before writes so renames and file<->folder changes free their names
// first. A round never trusts memory from an earlier one: base + folder + listing is the truth.
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { fsyncDir, tempPathFor } from '../../shared/node/atomic-fs.ts';
import { originalOfConflictCopy } from '../../shared/conflict-name.ts';
import type { IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { pathKey } from '../../shared/paths.ts';
import type { FileEntry } from '../../shared/protocol.ts';
import { HubError, type HubClient } from './hub-client.ts';
import { planRound, type Step } from './plan.ts';
import { scanLocal, sameStat, type LocalFile, type ScanResult } from './scanner.ts';
import type { ConflictRecord, StateStore, SyncState } from './state.ts';
import type { Trash } from './trash.ts';
import type { ActivityEntry, EngineErrorCode, EngineIssue, EngineProgress } from './types.ts';

/** How long a file the hub refused (413/507/400/409) waits before the same bytes are offered again. */
export const REFUSED_RETRY_MS = 6 * 3_600_000;

/** A failure that stops the round and needs the user or the network. */
export class RoundError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RoundError';
  }
}

export interface RoundContext {
  folder: string;
  device: string;
  hub: HubClient;
  store: StateStore;
  state: SyncState;
  trash: Trash;
  ignore: IgnoreMatcher;
  /** Temp folder on the folder's filesystem, or undefined to put temps beside their target. */
  tmpDir?: string;
  concurrency?: number;
  caseInsensitive?: boolean;
  guardThreshold?: number;
  /** The user confirmed the deletes the mass-delete guard stopped; a missing folder still stops the round. */
  allowMassDelete?: boolean;
  hashFile?: (abs: string) => Promise<string>;
  activity?: (a: ActivityEntry) => void;
  /** Files and bytes this round transfers, done so far and in all; told after planning and after each transfer. */
  progress?: (p: EngineProgress) => void;
  conflict?: (c: ConflictRecord) => void;
  /** Told about every path the engine itself writes or removes, so the watcher can ignore it. */
  ownWrite?: (rel: string) => void;
  now?: () => Date;
}

export interface RoundResult {
  uploaded: number;
  downloaded: number;
  deleted: number;
  conflicts: number;
  failed: number;
  /** Steps that changed a replica or were attempted. */
  work: number;
  /** Something needs another round (412, a file changing under us, a move-aside). */
  again: boolean;
  /** Files that changed while being read. */
  unstable: number;
  issues: EngineIssue[];
  cursor: string;
}

export async function runRound(ctx: RoundContext): Promise<RoundResult> {
  const now = ctx.now ?? (() => new Date());
  const { state } = ctx;
  // The listing is asked for while the folder is scanned: the two are independent (the hub takes
  // its cursor before walking, so a hub change during either is announced again by the feed).
  const clean = usableCleanCursor(state, ctx.ignore);
  const listed = clean === undefined ? ctx.hub.list() : ctx.hub.listIfChanged(clean);
  listed.catch(() => {});
  let scan = await scanLocal(ctx.folder, { ignore: ctx.ignore, cache: state.cache, ...(ctx.hashFile ? { hash: ctx.hashFile } : {}) });
  // A path the scan found as a file passed the ignore rules already; only the others are asked
  // (100,000 ignore checks cost ~0.2 s, twice: base and listing).
  const kept = (k: string): boolean => scan.files.has(k) || !ctx.ignore.ignores(k);
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
  for (const t of scan.temps) await unlink(join(ctx.folder, t)).catch(() => {});

  let listing = await listed;
  if ('notModified' in listing && (state.cleanHidden ?? []).some(kept)) {
    // A path the rules hid when the clean cursor was set is synced now (the scan found it): its
    // hub side was never compared with base, so this round needs the full listing after all.
    listing = await ctx.hub.list();
  }
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

  const plan = planRound({
    base: baseMap,
    local: scan.files,
    localDirs: scan.dirs,
    remote: remoteEntries,
    twins: scan.twins,
    failures: state.failures,
    device: ctx.device,
    now: now(),
    localRoot: scan.root,
    ...(ctx.caseInsensitive !== undefined ? { caseInsensitive: ctx.caseInsensitive } : {}),
    ...(ctx.guardThreshold !== undefined ? { guardThreshold: ctx.guardThreshold } : {}),
  });
  if (plan.guard.stop && !ctx.allowMassDelete) {
    throw new RoundError(
      'mass_delete',
      `sync stopped: ${plan.guard.reason}; nothing was deleted`,
      'If the deletes are intended, confirm them (desktop app: Recent activity, "Apply the deletes"; command line: youlab-sync --once --allow-mass-delete); otherwise restore the files (local deletes are in the client trash, hub deletes in its version store).',
    );
  }

  const exec = new Executor(ctx, scan, remoteEntries, now);
  exec.planProgress(plan.steps);
  const moves = plan.steps.filter((s) => s.kind === 'move-aside');
  if (moves.length > 0) {
    for (const m of moves) await exec.run(m);
  } else {
    const isDelete = (s: Step) => s.kind === 'delete-local' || s.kind === 'delete-remote';
    await exec.runAll(plan.steps.filter(isDelete));
    await exec.pruneEmptyDirs();
    await exec.runAll(plan.steps.filter((s) => !isDelete(s)));
  }

  // Cache exactly what the folder holds now (scan + what this round wrote), then persist. One
  // assignment: the state's change tracking compares it with the old cache (state.ts), so an
  // unchanged folder writes nothing.
  let cache = scan.cache;
  if (Object.keys(exec.cacheUpdates).length > 0 || exec.cacheDrops.size > 0) {
    cache = { ...scan.cache, ...exec.cacheUpdates };
    for (const rel of exec.cacheDrops) delete cache[rel];
  }
  state.cache = cache;
  for (const key of Object.keys(state.failures)) {
    if (!scan.files.has(key)) delete state.failures[key];
  }
  if ('notModified' in listing) {
    // A step that asks for another round (a 412: the hub moved behind its feed, a file changing
    // here) makes the next round list in full rather than plan from the base again.
    if (exec.result.again || moves.length > 0) {
      delete state.cleanCursor;
      delete state.cleanHidden;
    }
  } else {
    const verdict = cleanAfter(listing.files, state.base, { ignores: (k) => !kept(k) });
    if (verdict && !exec.result.again && exec.result.failed === 0 && !plan.steps.some(changesRemote)) {
      state.cleanCursor = listing.cursor;
      if (verdict.hidden.length > 0) state.cleanHidden = verdict.hidden;
      else delete state.cleanHidden;
    } else {
      delete state.cleanCursor;
      delete state.cleanHidden;
    }
  }
  await ctx.store.save(state);

  const r = exec.result;
  return {
    ...r,
    work: plan.work,
    again: r.again || moves.length > 0 || scan.unstable.length > 0,
    unstable: scan.unstable.length,
    cursor: listing.cursor,
  };
}

// ---- the clean cursor -------------------------------------------------------------------------
//
// A no-change round should not need the hub's full listing. The hub lets the client ask for it
// conditionally (If-None-Match "<cursor>", server/README.md "Listing"): 304 means the feed holds
// nothing after that cursor and the hub has verified its view, i.e. the hub holds now what it
// listed at that cursor. The client may then plan against `base` as the remote view only if it
// knows the listing at that cursor equalled its base. Why that is safe (SYNC-SPEC's decision
// table, shared/reconcile.ts, needs the true remote hash of every path):
//
// - `cleanCursor = C` is stored only after a round whose listing L (cursor C, taken by the hub
//   before its walk) equals the base at the end of that round on every path the ignore rules let
//   through (`cleanAfter`), when the round planned nothing on the hub (no upload, remote delete or
//   conflict), and no step failed or asked for another round. So at that point hub(C) = base.
// - Every later change to `base` (a full round, a quick round, a resolution) drops `cleanCursor`
//   (state.ts `track`), so whenever it is present, base is still the base that equalled L.
// - A 304 for C means nothing was announced after C, so hub(now) = hub(C) = L = base: planning
//   with remote := base gives exactly the plan the full listing would give. The hub only answers
//   304 once it has walked the workspace, and announces whatever its walks find the watcher
//   missed after C; the engine resumes the feed from C, so such a change reaches the client too.
// - Remote steps planned from a 304 are still conditional on base (If-Match base / If-None-Match
//   *), and any change they make drops `cleanCursor` (base changes) or fails with 412 (the hub
//   moved meanwhile; a round that asks for another drops it too), so the next round lists in full.
// - Ignore rules: L was compared only on paths the round syncs (not ignored, or found by the scan
//   as a file); the paths left out (listed by the hub or in base) are kept in `cleanHidden`. If one
//   of them is no longer ignored (the rules changed) the clean cursor is not sent; if the scan
//   finds one, the round asks for the full listing after the 304.
// - An older hub ignores the header and answers 200: the round is the full round it always was.

/** Hidden paths above this many: not worth keeping; such a folder always lists in full. */
const MAX_CLEAN_HIDDEN = 1000;

/** The clean cursor to send as If-None-Match, if the state holds one that still applies. */
export function usableCleanCursor(state: SyncState, ignore: IgnoreMatcher): string | undefined {
  const c = state.cleanCursor;
  if (c === undefined) return undefined;
  for (const p of state.cleanHidden ?? []) if (!ignore.ignores(p)) return undefined;
  return c;
}

/**
 * Whether the listing equals `base` on every path the rules let through, and which paths (of the
 * listing or base) they hid; undefined when they differ.
 */
export function cleanAfter(
  files: readonly { path: string; hash: string }[],
  base: Readonly<Record<string, string>>,
  ignore: Pick<IgnoreMatcher, 'ignores'>,
): { hidden: string[] } | undefined {
  const hidden = new Set<string>();
  let listed = 0;
  for (const f of files) {
    const key = pathKey(f.path);
    if (ignore.ignores(key)) {
      hidden.add(key);
      continue;
    }
    if (base[key] !== f.hash) return undefined;
    listed++;
  }
  let inBase = 0;
  for (const key of Object.keys(base)) {
    if (ignore.ignores(key)) hidden.add(key);
    else inBase++;
  }
  if (inBase !== listed || hidden.size > MAX_CLEAN_HIDDEN) return undefined;
  return { hidden: [...hidden].sort() };
}

function changesRemote(s: Step): boolean {
  return s.kind === 'upload' || s.kind === 'delete-remote' || s.kind === 'conflict' || s.kind === 'move-aside';
}

/** Runs planned steps; shared by the full round and the quick round (quick-round.ts). */
export class Executor {
  readonly result = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, again: false, issues: [] as EngineIssue[] };
  readonly cacheUpdates: Record<string, { size: number; mtimeMs: number; ino: number; hash: string }> = {};
  readonly cacheDrops = new Set<string>();
  private readonly emptied = new Set<string>();
  private fatal: Error | undefined;
  private readonly progress: EngineProgress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
  private readonly stepBytes = new Map<Step, number>();

  constructor(
    private readonly ctx: RoundContext,
    private readonly scan: ScanResult,
    private readonly remote: ReadonlyMap<string, FileEntry>,
    private readonly now: () => Date,
  ) {}

  async runAll(steps: Step[]): Promise<void> {
    const limit = pLimit(this.ctx.concurrency ?? 4);
    // Small files travel many per request (bulk.ts); everything else one by one as before.
    const { uploads, downloads, rest } = bulkBatches(steps, this.scan.files, this.remote, this.bulkOff);
    await Promise.all([
      ...uploads.map((b) => limit(() => (this.fatal ? undefined : this.uploadBatch(b)))),
      ...downloads.map((b) => limit(() => (this.fatal ? undefined : this.downloadBatch(b)))),
      ...rest.map((s) => limit(() => (this.fatal ? undefined : this.run(s)))),
    ]);
    if (this.fatal) throw this.fatal;
  }

  /** The hub has no bulk routes (an older hub): files go one by one. */
  private bulkOff = false;

  private isNoBulk(e: unknown): boolean {
    if (e instanceof HubError && (e.kind === 'not_found' || (e.kind === 'protocol' && e.status === 405))) this.bulkOff = true;
    return this.bulkOff;
  }

  private countDone(step: Step): void {
    const bytes = this.stepBytes.get(step);
    if (bytes !== undefined) {
      this.progress.filesDone++;
      this.progress.bytesDone += bytes;
      this.ctx.progress?.({ ...this.progress });
    }
  }

  private async uploadBatch(steps: UploadStep[]): Promise<void> {
    const entries: { step: UploadStep; bytes: Buffer }[] = [];
    // Read READ_PARALLEL at a time (one by one, 500 small files are ~2,000 thread-pool round
    // trips in a row), then handled in plan order.
    const read = pLimit(READ_PARALLEL);
    const got = await Promise.all(steps.map((step) => read(() => readSmall(this.abs(step.rel)).catch((e: unknown) => e as Error))));
    for (const [k, step] of steps.entries()) {
      const bytes = got[k];
      if (bytes instanceof Error || bytes === undefined) {
        // Gone or grown past the bulk size meanwhile: the one-by-one path decides.
        await this.run(step);
        continue;
      }
      entries.push({ step, bytes });
    }
    if (entries.length === 0) return;
    let results;
    try {
      results = await this.ctx.hub.bulkUpload(
        entries.map(({ step, bytes }) => ({ path: step.key, bytes, hash: step.hash, precondition: step.ifMatch ? { ifMatch: step.ifMatch } : { ifNoneMatch: true as const } })),
      );
    } catch (e) {
      if (this.isNoBulk(e)) {
        for (const { step } of entries) await this.run(step);
        return;
      }
      for (const { step } of entries) {
        this.onError(step, e);
        this.countDone(step);
      }
      return;
    }
    for (const [i, { step }] of entries.entries()) {
      const r = results[i]!;
      if (r.result) this.uploaded(step.key, step.hash, r.result.hash);
      else this.onError(step, r.error);
      this.countDone(step);
    }
  }

  private async downloadBatch(steps: DownloadStep[]): Promise<void> {
    let got: Awaited<ReturnType<HubClient['bulkGet']>>;
    try {
      got = await this.ctx.hub.bulkGet(steps.map((s) => s.key));
    } catch (e) {
      if (this.isNoBulk(e)) {
        for (const step of steps) await this.run(step);
        return;
      }
      for (const step of steps) {
        this.onError(step, e);
        this.countDone(step);
      }
      return;
    }
    for (const step of steps) {
      const r = got.get(step.key);
      if (r === undefined || (r instanceof HubError && r.kind === 'too_large')) {
        await this.run(step);
        continue;
      }
      try {
        if (r instanceof HubError) throw r;
        await this.download(step.key, step.rel, step.expectLocal, async (tmp) => {
          await writeFile(tmp, r.bytes, { flag: 'wx', mode: 0o644 });
          return { hash: r.hash, size: r.bytes.length };
        });
      } catch (e) {
        this.onError(step, e);
      }
      this.countDone(step);
    }
  }

  /** Count what the round will transfer, for the tray's "N files, X MB" during long syncs. */
  planProgress(steps: readonly Step[]): void {
    for (const s of steps) {
      let bytes: number | undefined;
      if (s.kind === 'upload') bytes = this.scan.files.get(s.key)?.size;
      else if (s.kind === 'download' || s.kind === 'replace-local') bytes = this.remote.get(s.key)?.size;
      if (bytes === undefined) continue;
      this.stepBytes.set(s, bytes);
      this.progress.filesTotal++;
      this.progress.bytesTotal += bytes;
    }
    if (this.progress.filesTotal > 0) this.ctx.progress?.({ ...this.progress });
  }

  async run(step: Step): Promise<void> {
    try {
      await this.runStep(step);
    } catch (e) {
      this.onError(step, e);
    }
    this.countDone(step);
  }

  private abs(rel: string): string {
    return join(this.ctx.folder, rel);
  }

  private activity(path: string, direction: ActivityEntry['direction'], outcome: ActivityEntry['outcome'], detail?: string) {
    this.ctx.activity?.({ at: this.now().toISOString(), path, direction, outcome, ...(detail ? { detail } : {}) });
  }

  private async runStep(step: Step): Promise<void> {
    const { state } = this.ctx;
    switch (step.kind) {
      case 'record-base':
        state.base[step.key] = step.hash;
        delete state.failures[step.key];
        return;
      case 'drop-base':
        delete state.base[step.key];
        return;
      case 'skip':
        this.result.issues.push({ code: issueCode(step.code), message: `${step.key}: ${step.message}`, path: step.key });
        this.activity(step.key, 'up', 'skipped', step.message);
        return;
      case 'upload':
        return this.upload(step.key, step.rel, step.hash, step.ifMatch);
      case 'download':
        return this.download(step.key, step.rel, step.expectLocal);
      case 'replace-local':
        return this.download(step.key, step.rel, step.expectLocal);
      case 'delete-remote':
        try {
          await this.ctx.hub.remove(step.key, step.ifMatch);
        } catch (e) {
          if (!(e instanceof HubError && e.kind === 'not_found')) throw e;
        }
        delete state.base[step.key];
        this.result.deleted++;
        this.activity(step.key, 'remote-delete', 'ok');
        return;
      case 'delete-local': {
        if (!(await this.unchanged(step.key, step.rel))) return;
        this.ctx.ownWrite?.(step.rel);
        await this.ctx.trash.moveIn(this.abs(step.rel), step.rel);
        delete state.base[step.key];
        this.cacheDrops.add(step.rel);
        this.emptied.add(dirname(step.rel));
        this.result.deleted++;
        this.activity(step.key, 'local-delete', 'ok', 'kept in the client trash');
        return;
      }
      case 'conflict':
        return this.conflict(step);
      case 'move-aside': {
        this.ctx.ownWrite?.(step.fromRel);
        this.ctx.ownWrite?.(step.toRel);
        await rename(this.abs(step.fromRel), this.abs(step.toRel));
        this.result.conflicts++;
        const info = this.scan.files.get(step.key);
        this.record({
          path: step.key,
          copyPath: pathKey(step.toRel),
          device: this.ctx.device,
          detectedAt: this.now().toISOString(),
          mine: { size: info?.size ?? 0, modified: info ? new Date(info.mtimeMs).toISOString() : '', hash: step.hash ?? info?.hash ?? '' },
          theirs: this.theirs(step.key),
        });
        this.activity(step.key, 'conflict', 'ok', `${step.why}: moved to ${step.toRel}`);
        return;
      }
    }
  }

  private theirs(key: string) {
    const r = this.remote.get(key);
    return { size: r?.size ?? 0, modified: r?.modified ?? '', hash: r?.hash ?? '' };
  }

  private record(c: ConflictRecord): void {
    const list = this.ctx.state.conflicts.filter((x) => x.copyPath !== c.copyPath);
    list.push(c);
    this.ctx.state.conflicts = list;
    this.ctx.conflict?.(c);
  }

  /** The local file is still what the scan saw (else a later round decides again). */
  private async unchanged(key: string | undefined, rel: string): Promise<boolean> {
    const seen: LocalFile | undefined = key === undefined ? undefined : this.scan.files.get(key);
    const now = await lstat(this.abs(rel)).catch(() => undefined);
    if (!seen) {
      // An empty folder of that name is no content; the download decides what to do with it.
      if (!now || now.isDirectory()) return true;
      this.result.again = true;
      return false;
    }
    if (!now || !sameStat(seen, now)) {
      this.result.again = true;
      return false;
    }
    return true;
  }

  private async upload(key: string, rel: string, hash: string, ifMatch: string | undefined): Promise<void> {
    const res = await this.ctx.hub.upload(key, this.abs(rel), hash, ifMatch ? { ifMatch } : { ifNoneMatch: true });
    this.uploaded(key, hash, res.hash);
  }

  private uploaded(key: string, hash: string, stored: string): void {
    if (stored === hash) this.ctx.state.base[key] = hash;
    delete this.ctx.state.failures[key];
    this.result.uploaded++;
    this.activity(key, 'up', 'ok');
  }

  private async download(
    key: string,
    rel: string,
    expectLocal: string | undefined,
    fetch?: (tmp: string) => Promise<{ hash: string; size: number }>,
  ): Promise<void> {
    const target = this.abs(rel);
    if (!(await this.unchanged(expectLocal === undefined ? undefined : key, rel))) return;
    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    const tmp = tempPathFor(target, this.ctx.tmpDir);
    if (this.ctx.tmpDir) await mkdir(this.ctx.tmpDir, { recursive: true });
    const got = fetch ? await fetch(tmp) : await this.ctx.hub.download(key, tmp);
    let st: Stats;
    try {
      // Re-check right before replacing: a local edit during the transfer wins this round.
      if (!(await this.unchanged(expectLocal === undefined ? undefined : key, rel))) return;
      const existing = await lstat(target).catch(() => undefined);
      if (existing?.isDirectory()) {
        // An empty folder may give way to the hub's file; a folder with files is a clash for the planner.
        if ((await readdir(target)).length > 0) {
          this.result.again = true;
          return;
        }
        await rmdir(target);
      } else if (existing) {
        await this.ctx.trash.keepCopy(target, rel);
      }
      // The stat the file will have (a rename keeps inode, size and mtime), taken before it is in
      // place: an lstat after the rename could already see the user's next edit and record it as
      // these downloaded bytes, and that edit would never be uploaded.
      st = await lstat(tmp);
      this.ctx.ownWrite?.(rel);
      await rename(tmp, target);
      await fsyncDir(parent);
    } finally {
      await unlink(tmp).catch(() => {});
    }
    this.cacheUpdates[rel] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: got.hash };
    this.ctx.state.base[key] = got.hash;
    this.result.downloaded++;
    this.activity(key, 'down', 'ok');
    const original = originalOfConflictCopy(key);
    if (original && expectLocal === undefined && !this.ctx.state.conflicts.some((c) => c.copyPath === key)) {
      // Another device made this conflict copy: list it here too, so it can be settled from any device.
      this.record({
        path: original,
        copyPath: key,
        device: /\(conflict (.*) \d{4}-\d{2}-\d{2} \d{6}\)/.exec(key)?.[1] ?? '',
        detectedAt: this.now().toISOString(),
        mine: { size: got.size, modified: new Date(st.mtimeMs).toISOString(), hash: got.hash },
        theirs: this.theirs(original),
      });
    }
  }

  private async conflict(step: Extract<Step, { kind: 'conflict' }>): Promise<void> {
    if (!(await this.unchanged(step.key, step.rel))) return;
    const info = this.scan.files.get(step.key)!;
    const copyRel = join(dirname(step.rel), step.copyKey.slice(step.copyKey.lastIndexOf('/') + 1)).replace(/^\.\//, '');
    this.record({
      path: step.key,
      copyPath: step.copyKey,
      device: this.ctx.device,
      detectedAt: this.now().toISOString(),
      mine: { size: info.size, modified: new Date(info.mtimeMs).toISOString(), hash: step.local },
      theirs: this.theirs(step.key),
    });
    // Persist the record before touching files, so a crash cannot leave an unexplained copy.
    await this.ctx.store.save(this.ctx.state);
    this.ctx.ownWrite?.(step.rel);
    this.ctx.ownWrite?.(copyRel);
    // Before the rename, for the reason given in download().
    const st = await lstat(this.abs(step.rel));
    await rename(this.abs(step.rel), this.abs(copyRel));
    this.result.conflicts++;
    this.activity(step.key, 'conflict', 'ok', `your version is kept as ${copyRel}`);
    this.cacheDrops.add(step.rel);
    this.cacheUpdates[copyRel] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: step.local };
    await this.download(step.key, step.rel, undefined);
    await this.upload(step.copyKey, copyRel, step.local, undefined);
  }

  async pruneEmptyDirs(): Promise<void> {
    // Folders emptied by local deletes go too (they were the other side's deleted folders).
    const dirs = [...this.emptied].filter((d) => d !== '.' && d !== '').sort((a, b) => b.length - a.length);
    const seen = new Set<string>();
    for (let d of dirs) {
      while (d && d !== '.' && !seen.has(d)) {
        seen.add(d);
        try {
          await rmdir(this.abs(d));
          this.ctx.ownWrite?.(d);
        } catch {
          break;
        }
        d = dirname(d);
      }
    }
  }

  private onError(step: Step, e: unknown): void {
    const key = 'key' in step ? step.key : '';
    if (!(e instanceof HubError)) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
        // The folder changed under us; the next round sees the new truth.
        this.result.again = true;
        return;
      }
      if ((e as Error).name === 'AbortError') {
        this.fatal ??= e as Error;
        return;
      }
      this.result.failed++;
      this.result.issues.push({ code: 'internal', message: `${key}: ${(e as Error).message}`, path: key });
      return;
    }
    const up = step.kind === 'upload' || step.kind === 'conflict';
    switch (e.kind) {
      case 'precondition':
      case 'hash_mismatch':
        // The hub or the file moved since we looked: decide again next round.
        this.result.again = true;
        return;
      case 'too_large':
      case 'quota':
      case 'bad_path':
      case 'conflict': {
        this.result.failed++;
        const hash = step.kind === 'upload' ? step.hash : step.kind === 'conflict' ? step.local : undefined;
        const failKey = step.kind === 'conflict' ? step.copyKey : key;
        if (up) {
          this.ctx.state.failures[failKey] = {
            code: e.kind,
            message: e.message,
            ...(hash ? { hash } : {}),
            at: this.now().toISOString(),
            retryAt: this.now().getTime() + REFUSED_RETRY_MS,
          };
        }
        this.result.issues.push({ code: issueCode(e.kind), message: `${failKey}: not synced: ${e.message}`, path: failKey });
        this.activity(failKey, up ? 'up' : 'down', 'failed', e.message);
        return;
      }
      case 'not_found':
        this.result.again = true;
        return;
      case 'auth':
      case 'forbidden':
        this.fatal ??= new RoundError('auth', `the hub refused the API key (${e.status}): ${e.message}`, 'Check the key (youlab-sync login) or ask for a new one.');
        return;
      default:
        this.result.failed++;
        if (e.kind === 'network' || e.kind === 'server' || e.kind === 'rate_limited') this.fatal ??= e;
        else this.result.issues.push({ code: 'internal', message: `${key}: ${e.message}`, path: key });
    }
  }
}

type UploadStep = Extract<Step, { kind: 'upload' }>;
type DownloadStep = Extract<Step, { kind: 'download' }>;

/** Small files read at once to fill one bulk request. */
const READ_PARALLEL = 16;

/** Files up to this size travel in bulk; larger ones stream one by one. */
export const BULK_FILE_BYTES = 256 * 1024;
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 500;

/** Small uploads and downloads in batches of up to ~4 MiB / 500 files; a lone small file goes alone. */
export function bulkBatches(
  steps: readonly Step[],
  local: ReadonlyMap<string, { size: number }>,
  remote: ReadonlyMap<string, { size: number }>,
  off: boolean,
): { uploads: UploadStep[][]; downloads: DownloadStep[][]; rest: Step[] } {
  const ups: UploadStep[] = [];
  const downs: DownloadStep[] = [];
  const rest: Step[] = [];
  for (const s of steps) {
    if (!off && s.kind === 'upload' && (local.get(s.key)?.size ?? Infinity) <= BULK_FILE_BYTES) ups.push(s);
    else if (!off && s.kind === 'download' && (remote.get(s.key)?.size ?? Infinity) <= BULK_FILE_BYTES) downs.push(s);
    else rest.push(s);
  }
  const batch = <T extends Step>(list: T[], size: (s: T) => number): T[][] => {
    if (list.length < 2) {
      rest.push(...list);
      return [];
    }
    const out: T[][] = [];
    let cur: T[] = [];
    let bytes = 0;
    for (const s of list) {
      const n = size(s);
      if (cur.length > 0 && (cur.length >= BATCH_FILES || bytes + n > BATCH_BYTES)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(s);
      bytes += n;
    }
    if (cur.length) out.push(cur);
    return out;
  };
  return {
    uploads: batch(ups, (s) => local.get(s.key)!.size),
    downloads: batch(downs, (s) => remote.get(s.key)!.size),
    rest,
  };
}

/** A small file's bytes, or undefined when it grew past the bulk size (then it streams). */
async function readSmall(abs: string): Promise<Buffer | undefined> {
  const fh = await open(abs, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > BULK_FILE_BYTES) return undefined;
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

function issueCode(code: string): EngineErrorCode {
  if (code === 'too_large' || code === 'quota' || code === 'bad_path') return code;
  if (code === 'conflict' || code === 'case_clash') return 'clash';
  return 'internal';
}
