// Runs the planned steps of a round, full (round.ts) or quick (quick-round.ts), with modest
// concurrency: `executeSteps` is its whole public face. Every step is conditional on what the
// plan saw (If-Match / If-None-Match on the hub, the scan's stat locally), so a change made
// meanwhile makes the step fail or ask for another round instead of being lost.
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { fsyncDir, fsyncFile, tempPathFor } from '../../shared/node/atomic-fs.ts';
import { originalOfConflictCopy } from '../../shared/conflict-name.ts';
import { pathKey } from '../../shared/paths.ts';
import type { FileEntry } from '../../shared/protocol.ts';
import type { ActivityEntry, EngineIssue, EngineProgress } from '../engine-api/types.ts';
import { bulkBatches, downloadBatch, uploadBatch, type BatchHost } from './bulk-steps.ts';
import { HubError } from './hub-errors.ts';
import type { Step } from './plan.ts';
import type { RoundContext } from './round-context.ts';
import { sameStat, type LocalFile } from './scanner.ts';
import type { CacheEntry, ConflictRecord } from './state.ts';
import { issueCode, stepError } from './step-errors.ts';

/** What the steps did; `again`: something needs another round (412, a file changing under us). */
export interface StepCounts {
  uploaded: number;
  downloaded: number;
  deleted: number;
  conflicts: number;
  failed: number;
  again: boolean;
  issues: EngineIssue[];
}

export interface Execution {
  result: StepCounts;
  /** Cache entries of the files the steps wrote (downloads, conflict copies), by on-disk path. */
  cacheUpdates: Readonly<Record<string, CacheEntry>>;
  /** On-disk paths the steps removed or moved away. */
  cacheDrops: ReadonlySet<string>;
}

/** What the steps were planned from: the local files as scanned, and the hub's view (its listing, or base). */
export interface PlannedFrom {
  local: ReadonlyMap<string, LocalFile>;
  remote: ReadonlyMap<string, FileEntry>;
}

/**
 * Runs a plan's steps. Move-asides run alone, one by one (a plan that has them holds nothing
 * else; the next round plans again from what is on disk). Otherwise deletes run before writes so
 * renames and file<->folder changes free their names first, and folders the deletes emptied go
 * in between. Throws what stops the whole round (the network, the key, a stop).
 */
export async function executeSteps(ctx: RoundContext, from: PlannedFrom, steps: readonly Step[], now: () => Date): Promise<Execution> {
  const exec = new Executor(ctx, from.local, from.remote, now);
  exec.planProgress(steps);
  const moves = steps.filter((s) => s.kind === 'move-aside');
  if (moves.length > 0) {
    for (const m of moves) await exec.run(m);
  } else {
    const isDelete = (s: Step) => s.kind === 'delete-local' || s.kind === 'delete-remote';
    await exec.runAll(steps.filter(isDelete));
    await exec.pruneEmptyDirs();
    await exec.runAll(steps.filter((s) => !isDelete(s)));
  }
  return { result: exec.result, cacheUpdates: exec.cacheUpdates, cacheDrops: exec.cacheDrops };
}

class Executor {
  readonly result: StepCounts = { uploaded: 0, downloaded: 0, deleted: 0, conflicts: 0, failed: 0, again: false, issues: [] };
  readonly cacheUpdates: Record<string, CacheEntry> = {};
  readonly cacheDrops = new Set<string>();
  private readonly emptied = new Set<string>();
  private fatal: Error | undefined;
  private readonly progress: EngineProgress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
  private readonly stepBytes = new Map<Step, number>();
  /** The hub has no bulk routes (an older hub): files go one by one. */
  private bulkOff = false;
  private readonly batchHost: BatchHost;

  constructor(
    private readonly ctx: RoundContext,
    private readonly local: ReadonlyMap<string, LocalFile>,
    private readonly remote: ReadonlyMap<string, FileEntry>,
    private readonly now: () => Date,
  ) {
    // What the bulk batches (bulk-steps.ts) use of this executor.
    this.batchHost = {
      hub: ctx.hub,
      abs: (rel) => this.abs(rel),
      run: (step) => this.run(step),
      uploaded: (key, hash, stored) => this.uploaded(key, hash, stored),
      download: (step, fetch) => this.download(step.key, step.rel, step.expectLocal, fetch),
      onError: (step, e) => this.onError(step, e),
      countDone: (step) => this.countDone(step),
      isNoBulk: (e) => this.isNoBulk(e),
    };
  }

  async runAll(steps: Step[]): Promise<void> {
    const limit = pLimit(this.ctx.concurrency ?? 4);
    // Small files travel many per request (bulk-steps.ts); everything else one by one as before.
    const { uploads, downloads, rest } = bulkBatches(steps, this.local, this.remote, this.bulkOff);
    await Promise.all([
      ...uploads.map((b) => limit(() => (this.fatal ? undefined : uploadBatch(this.batchHost, b)))),
      ...downloads.map((b) => limit(() => (this.fatal ? undefined : downloadBatch(this.batchHost, b)))),
      ...rest.map((s) => limit(() => (this.fatal ? undefined : this.run(s)))),
    ]);
    if (this.fatal) throw this.fatal;
  }

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

  /** Count what the round will transfer, for the tray's "N files, X MB" during long syncs. */
  planProgress(steps: readonly Step[]): void {
    for (const s of steps) {
      let bytes: number | undefined;
      if (s.kind === 'upload') bytes = this.local.get(s.key)?.size;
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
        this.activity(step.key, step.dir ?? 'up', 'skipped', step.message);
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
      case 'delete-local':
        return this.deleteLocal(step);
      case 'conflict':
        return this.conflict(step);
      case 'move-aside':
        return this.moveAside(step);
    }
  }

  private async deleteLocal(step: Extract<Step, { kind: 'delete-local' }>): Promise<void> {
    if (!(await this.unchanged(step.key, step.rel))) return;
    this.ctx.ownWrite?.(step.rel);
    await this.ctx.trash.moveIn(this.abs(step.rel), step.rel);
    delete this.ctx.state.base[step.key];
    this.cacheDrops.add(step.rel);
    this.emptied.add(dirname(step.rel));
    this.result.deleted++;
    this.activity(step.key, 'local-delete', 'ok', 'kept in the client trash');
  }

  private async moveAside(step: Extract<Step, { kind: 'move-aside' }>): Promise<void> {
    this.ctx.ownWrite?.(step.fromRel);
    this.ctx.ownWrite?.(step.toRel);
    await rename(this.abs(step.fromRel), this.abs(step.toRel));
    this.result.conflicts++;
    const info = this.local.get(step.key);
    this.record({
      path: step.key,
      copy_path: pathKey(step.toRel),
      device: this.ctx.device,
      detected_at: this.now().toISOString(),
      mine: { size: info?.size ?? 0, modified: info ? new Date(info.mtimeMs).toISOString() : '', hash: step.hash ?? info?.hash ?? '' },
      theirs: this.theirs(step.key),
    });
    this.activity(step.key, 'conflict', 'ok', `${step.why}: moved to ${step.toRel}`);
  }

  private theirs(key: string) {
    const r = this.remote.get(key);
    return { size: r?.size ?? 0, modified: r?.modified ?? '', hash: r?.hash ?? '' };
  }

  private record(c: ConflictRecord): void {
    const list = this.ctx.state.conflicts.filter((x) => x.copy_path !== c.copy_path);
    list.push(c);
    this.ctx.state.conflicts = list;
    this.ctx.conflict?.(c);
  }

  /** The local file is still what the scan saw (else a later round decides again). */
  private async unchanged(key: string | undefined, rel: string): Promise<boolean> {
    const seen: LocalFile | undefined = key === undefined ? undefined : this.local.get(key);
    const now = await lstat(this.abs(rel)).catch(() => undefined); // gone: compared as absent
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
      // The bytes reach the disk before the name points at them: after a power cut the target is
      // the old file or the whole new one, never an empty or torn file the next round would upload.
      await fsyncFile(tmp);
      // Re-check right before replacing: a local edit during the transfer wins this round.
      if (!(await this.unchanged(expectLocal === undefined ? undefined : key, rel))) return;
      const existing = await lstat(target).catch(() => undefined); // nothing there: a plain create
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
      await unlink(tmp).catch(() => {}); // renamed into place, or never created
    }
    this.cacheUpdates[rel] = { size: st.size, mtime_ms: st.mtimeMs, ino: st.ino, hash: got.hash };
    this.ctx.state.base[key] = got.hash;
    this.result.downloaded++;
    this.activity(key, 'down', 'ok');
    const original = originalOfConflictCopy(key);
    if (original && expectLocal === undefined && !this.ctx.state.conflicts.some((c) => c.copy_path === key)) {
      // Another device made this conflict copy: list it here too, so it can be settled from any device.
      this.record({
        path: original,
        copy_path: key,
        device: /\(conflict (.*) \d{4}-\d{2}-\d{2} \d{6}\)/.exec(key)?.[1] ?? '',
        detected_at: this.now().toISOString(),
        mine: { size: got.size, modified: new Date(st.mtimeMs).toISOString(), hash: got.hash },
        theirs: this.theirs(original),
      });
    }
  }

  private async conflict(step: Extract<Step, { kind: 'conflict' }>): Promise<void> {
    if (!(await this.unchanged(step.key, step.rel))) return;
    const info = this.local.get(step.key)!;
    const copyRel = join(dirname(step.rel), step.copyKey.slice(step.copyKey.lastIndexOf('/') + 1)).replace(/^\.\//, '');
    this.record({
      path: step.key,
      copy_path: step.copyKey,
      device: this.ctx.device,
      detected_at: this.now().toISOString(),
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
    this.cacheUpdates[copyRel] = { size: st.size, mtime_ms: st.mtimeMs, ino: st.ino, hash: step.local };
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
          // not empty (or gone): the folder stays
          break;
        }
        d = dirname(d);
      }
    }
  }

  /** A step failed: count it, report it, remember a refusal, or stop the round (step-errors.ts). */
  private onError(step: Step, e: unknown): void {
    const o = stepError(step, e, this.ctx.state.failures, this.now);
    if (o.again) this.result.again = true;
    if (o.failed) this.result.failed++;
    if (o.refused) this.ctx.state.failures[o.refused.key] = o.refused.record;
    if (o.issue) this.result.issues.push(o.issue);
    if (o.activity) this.activity(o.activity.path, o.activity.direction, 'failed', o.activity.detail);
    if (o.fatal) this.fatal ??= o.fatal;
  }
}
