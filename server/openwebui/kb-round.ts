// One user's workspace <-> knowledge-base round (docs/SYNC-SPEC.md "Hub <-> Open WebUI knowledge
// base"): find or create the KB, read both sides, let plan.ts decide, carry the steps out
// (kb-steps.ts, uploads through kb-upload.ts), record the base only after proof. KbSync
// (kb-sync.ts) runs one at a time per user.
import { stat } from 'node:fs/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { hashBytes } from '../../shared/node/hash.ts';
import { StoreError } from '../store-error.ts';
import type { WorkspaceStore } from '../workspace/types.ts';
import type { OpenWebUIClient } from './client.ts';
import { OpenWebUIError } from './http.ts';
import { ensureKnowledge } from './kb-knowledge.ts';
import type { KbExclusion } from './exclude.ts';
import { loadKbExclusion } from './kb-ignore-file.ts';
import type { KbSteps, LocalEntry, RoundContext } from './kb-steps.ts';
import { KbUploads, StateWriteError } from './kb-upload.ts';
import type { KbSyncLogger, SyncSummary } from './kb-types.ts';
import { planRound, viewRemote, type Direction, type Plan, type RemoteView, type Step } from './plan.ts';
import { confirmedDeletes, heldDeletes, lineFor, updateDescription } from './kb-round-report.ts';
import type { Knowledge } from './schemas.ts';
import type { FailureReason, LastRound, SyncState } from './state-schema.ts';
import { loadState, saveState } from './state.ts';

export interface KbRoundDeps {
  client: OpenWebUIClient;
  store: WorkspaceStore;
  steps: KbSteps;
  extensions: readonly string[];
  /** Largest workspace file sent to the KB (RALPH_SYNC_MAX_KB_FILE_BYTES); 0 or absent: no limit. */
  maxFileBytes?: number | undefined;
  /** The user's KB name. */
  knowledgeName: string;
  userMap?: Readonly<Record<string, string>> | undefined;
  logger?: KbSyncLogger | undefined;
  now: () => Date;
  /**
   * Told how the round ended (also when nothing changed and the state file is not written), and
   * handed the work that follows it: the description line, which Open WebUI re-embeds (seconds
   * with a remote embedding model), so the round's answer does not wait for it; KbSync keeps
   * the user's next round waiting for it instead.
   */
  onFinished: (lastSync: string, round: LastRound, after: Promise<unknown>) => void;
}

export interface KbRoundOptions {
  direction: Direction;
  /** The user confirmed the deletes the guard held in the last round: this round carries them out. */
  confirmDeletes?: boolean;
}

/** Both sides as the round read them. */
interface Sides {
  local: Map<string, string>;
  localEntries: Map<string, LocalEntry>;
  remote: RemoteView;
  localRootGone: boolean;
  /** What never goes to the KB (exclude.ts), with the workspace's own .youlabignore. */
  exclusion: KbExclusion;
}

export async function runKbRound(deps: KbRoundDeps, userId: string, opts: KbRoundOptions): Promise<SyncSummary> {
  const started = deps.now();
  const stateDir = deps.store.stateDir(userId);
  const state = await loadState(stateDir, userId);
  const round = new KbRound(deps, userId, opts.direction, stateDir, state);
  return round.run(started, await deps.client.version(), opts.confirmDeletes === true);
}

class KbRound {
  private readonly before: string;

  constructor(
    private readonly deps: KbRoundDeps,
    private readonly userId: string,
    private readonly direction: Direction,
    private readonly stateDir: string,
    private readonly state: SyncState,
  ) {
    this.before = JSON.stringify(state);
  }

  private save(): Promise<void> {
    return saveState(this.stateDir, this.state);
  }

  async run(started: Date, openwebuiVersion: string, confirmDeletes: boolean): Promise<SyncSummary> {
    const { state, userId, direction } = this;
    const summary = newSummary(userId, direction, this.deps.knowledgeName, openwebuiVersion, started);
    const kb = await ensureKnowledge(
      this.deps.client,
      { userId, name: this.deps.knowledgeName, userMap: this.deps.userMap },
      state,
      summary,
    );
    summary.knowledge_id = kb.id;
    if (JSON.stringify(state) !== this.before) await this.save();

    const sides = await this.readSides(kb.id, summary);
    const plan = planRound({
      state,
      local: sides.local,
      remote: sides.remote,
      direction,
      extensions: this.deps.extensions,
      now: started,
      localRootGone: sides.localRootGone,
      exclusion: sides.exclusion,
      ...(confirmDeletes ? { confirmed: confirmedDeletes(state) } : {}),
    });
    this.reportHeld(plan, summary);
    state.held = heldDeletes(plan.guarded, plan.guard, state, started);
    await this.tidy(plan, sides);
    const quick = await this.deps.client.supportsQuickUploads();
    const ctx: RoundContext = {
      userId,
      kbId: kb.id,
      direction,
      state,
      summary,
      localEntries: sides.localEntries,
      upload: (job) => uploads.run(job),
    };
    // Per round, not per hub: one user's first sync must not queue another user's single edit
    // behind its thousands of files (rounds of different users run side by side, as before).
    const limit = pLimit(Math.max(1, Math.floor(this.deps.steps.options.concurrency)));
    const uploads = new KbUploads({ steps: this.deps.steps, limit, quick, save: () => this.save() }, ctx);
    await this.runSteps(ctx, plan.steps, uploads, limit);
    return this.finish(kb, summary, started);
  }

  private async readSides(kbId: string, summary: SyncSummary): Promise<Sides> {
    const { client, store } = this.deps;
    const listing = await store.list(this.userId);
    const localEntries = new Map(listing.files.map((f) => [f.path, f]));
    const local = new Map(listing.files.map((f) => [f.path, f.hash]));
    const { exclusion, errors } = await loadKbExclusion(store, this.userId, listing.files, this.deps.maxFileBytes);
    for (const e of errors) summary.skipped.push({ path: '.youlabignore', reason: `rule left out: ${e}` });

    const remote = viewRemote(await client.listKnowledgeFiles(kbId), this.state);
    // Releases before 0.9.6 do not say the raw-bytes hash: learn it from the bytes.
    for (const r of remote.byPath.values()) {
      if (r.hash === undefined) r.hash = hashBytes(await client.downloadFile(r.id));
    }
    for (const r of remote.ignored) summary.skipped.push({ path: r.name, reason: r.reason });
    if (this.direction !== 'from_openwebui') {
      for (const leftover of remote.hubLeftovers) {
        await this.deps.steps.dropKbFile(kbId, leftover.id);
      }
    }

    const localRootGone = await stat(store.workspaceDir(this.userId)).then(
      (st) => !st.isDirectory(),
      () => true,
    );
    return { local, localEntries, remote, localRootGone, exclusion };
  }

  private reportHeld(plan: Plan, summary: SyncSummary): void {
    if (plan.guard) summary.guard = plan.guard;
    for (const h of plan.held) {
      if (h.why === 'unsupported_type') summary.skipped.push({ path: h.path, reason: 'unsupported_type' });
      else if (h.why === 'excluded') summary.skipped.push({ path: h.path, reason: `ignored (${h.rule}): the KB file is left alone` });
      else if (h.why === 'backoff')
        summary.failed.push({
          path: h.path,
          reason: h.failure.reason,
          message: h.failure.message,
          next_retry_at: h.failure.next_retry_at,
        });
      else summary.skipped.push({ path: h.path, reason: `${h.decision} held by direction ${this.direction}` });
    }
  }

  /** Drop pending uploads and failures the workspace or the KB moved past. */
  private async tidy(plan: Plan, sides: Sides): Promise<void> {
    const { state } = this;
    const uploading = new Set(plan.steps.filter((s) => s.kind === 'upload').map((s) => s.path));
    // An upload left pending whose workspace file moved on is garbage the hub made: drop it.
    for (const [path, p] of Object.entries(state.pending)) {
      if (state.files[path]?.openwebui_file_id === p.openwebui_file_id) {
        delete state.pending[path]; // a crash after the add: the round already adopted it
      } else if (sides.local.get(path) !== p.hash || !uploading.has(path)) {
        await this.deps.client.deleteFile(p.openwebui_file_id).catch(() => undefined); // gone already, or left as an orphan: the KB never lists it (it was never added)
        delete state.pending[path];
      }
    }
    // Failures whose content is gone or changed are stale.
    let stale = false;
    for (const [path, f] of Object.entries(state.failures)) {
      const now = f.side === 'from_openwebui' ? sides.remote.byPath.get(path)?.hash : sides.local.get(path);
      if (now !== f.hash) {
        delete state.failures[path];
        stale = true;
      }
    }
    if (stale) await this.save();
  }

  /**
   * Deletes first, side by side (a rename must not trip duplicate detection); then the uploads
   * side by side through the upload pipeline, and the other steps one after the other beside
   * them. State is written in batches (kb-upload.ts writes it before it drops a replaced file),
   * here once at the end, and at once when the round stops.
   */
  private async runSteps(ctx: RoundContext, steps: readonly Step[], uploads: KbUploads, limit: LimitFunction): Promise<void> {
    const isDelete = (s: Step): boolean => s.kind === 'delete-remote' || s.kind === 'delete-local';
    const stopped: unknown[] = [];
    const guard = async (work: Promise<void>): Promise<void> => {
      try {
        await work;
      } catch (e) {
        stopped.push(e);
        uploads.stop(e);
      }
    };
    await Promise.all(steps.filter(isDelete).map((s) => guard(limit(() => this.runStep(ctx, s)))));
    if (stopped.length === 0) {
      const rest = steps.filter((s) => !isDelete(s));
      const others = async (): Promise<void> => {
        for (const s of rest) if (s.kind !== 'upload' && stopped.length === 0) await this.runStep(ctx, s);
      };
      await Promise.all([guard(others()), ...rest.filter((s) => s.kind === 'upload').map((s) => guard(this.runStep(ctx, s)))]);
    }
    if (stopped.length > 0) {
      await this.save();
      throw stopped[0];
    }
  }

  /** One step; an error that is not the round's end is recorded against the path. */
  private async runStep(ctx: RoundContext, step: Step): Promise<void> {
    const { steps } = this.deps;
    try {
      await steps.run(ctx, step);
    } catch (e) {
      // Open WebUI down, our key refused, the state not written: the whole round stops; the next one resumes.
      if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) throw e;
      if (e instanceof StateWriteError) throw e;
      this.deps.logger?.warn({ user: this.userId, path: step.path, err: String(e) }, 'kb sync step failed');
      if (step.kind === 'upload') steps.recordFailure(ctx, step.path, step.hash, 'error', String(e));
      if (step.kind === 'download' || step.kind === 'conflict') {
        // Retried with backoff like uploads, so a file the workspace refuses is not fetched every round.
        const reason: FailureReason = e instanceof StoreError ? 'workspace_refused' : 'error';
        steps.recordFailure(ctx, step.path, step.remote.hash!, reason, e instanceof Error ? e.message : String(e), 'from_openwebui');
      }
    }
  }

  private async finish(kb: Knowledge, summary: SyncSummary, started: Date): Promise<SyncSummary> {
    const { state } = this;
    const finished = this.deps.now();
    state.last_sync = finished.toISOString();
    const bare = (st: SyncState): string => JSON.stringify({ ...st, last_sync: null, last_round: null });
    const changed = bare(state) !== bare(JSON.parse(this.before) as SyncState);
    const round: LastRound = {
      direction: this.direction,
      started_at: started.toISOString(),
      finished_at: state.last_sync,
      duration_ms: finished.getTime() - started.getTime(),
      outcome: summary.guard ? 'guarded' : 'ok',
      changed,
    };
    state.last_round = round;
    // Idempotence: a round that changed nothing writes nothing (last_sync is kept in memory only then).
    if (changed) await this.save();
    const after = updateDescription(this.deps.client, kb, lineFor(state, finished), changed, this.deps.logger);
    this.deps.onFinished(state.last_sync, round, after);
    summary.finished_at = state.last_sync;
    sortSummary(summary);
    this.deps.logger?.info(
      {
        user: this.userId,
        knowledge: kb.id,
        uploaded: summary.uploaded.length,
        downloaded: summary.downloaded.length,
        failed: summary.failed.length,
        pending: summary.pending.length,
      },
      'kb sync round',
    );
    return summary;
  }
}

/** Steps ran side by side: the lists come out in path order, not in the order they ended. */
function sortSummary(s: SyncSummary): void {
  for (const list of [s.uploaded, s.downloaded, s.deleted_in_openwebui, s.deleted_in_workspace, s.pending]) list.sort(byCodeUnit);
  s.conflicts.sort((a, b) => byCodeUnit(a.path, b.path));
  s.failed.sort((a, b) => byCodeUnit(a.path, b.path));
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function newSummary(userId: string, direction: Direction, name: string, version: string, started: Date): SyncSummary {
  return {
    user_id: userId,
    direction,
    knowledge_id: '',
    knowledge_name: name,
    openwebui_version: version,
    knowledge_created: false,
    knowledge_recreated: false,
    uploaded: [],
    downloaded: [],
    deleted_in_openwebui: [],
    deleted_in_workspace: [],
    conflicts: [],
    pending: [],
    failed: [],
    skipped: [],
    started_at: started.toISOString(),
    finished_at: '',
  };
}
