// One user's workspace <-> knowledge-base round (SYNC-SPEC "Hub <-> Open WebUI knowledge base"):
// find or create the KB, read both sides, let plan.ts decide, carry the steps out, record the
// base only after proof. One round per user at a time.
import { stat } from 'node:fs/promises';
import { conflictCopyName } from '../../shared/conflict-name.ts';
import { hashBytes } from '../../shared/node/hash.ts';
import { StoreError } from '../store-error.ts';
import type { WorkspaceStore } from '../workspace/types.ts';
import { HUB_MARKER, OpenWebUIError, type OpenWebUIClient } from './client.ts';
import { nextFailure, planRound, viewRemote, extensionAllowed, type Direction, type RemoteFile, type Step } from './plan.ts';
import type { Knowledge } from './schemas.ts';
import { loadState, saveState, type FailureReason, type FileState, type SyncState } from './state.ts';

export interface KbSyncLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface KbSyncOptions {
  client: OpenWebUIClient;
  store: WorkspaceStore;
  /** KB name is `${prefix}-${userId}`. */
  prefix?: string;
  extensions: readonly string[];
  /** Hub user id -> Open WebUI user id or email. Unmapped users are their own Open WebUI id. */
  userMap?: Readonly<Record<string, string>>;
  /** How long a round waits for one upload's processing before leaving it pending. */
  processTimeoutMs?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  logger?: KbSyncLogger;
  now?: () => Date;
  /** Cross-instance lock (Redis when several hubs share a volume), so one user's KB sync never runs twice at once. */
  lock?: { run<T>(key: string, fn: () => Promise<T>): Promise<T> };
  /** Times each round; returns the function that records its outcome. */
  onRoundStart?: () => (ok: boolean) => void;
}

export interface SyncSummary {
  user_id: string;
  direction: Direction;
  knowledge_id: string;
  knowledge_name: string;
  openwebui_version: string;
  knowledge_created: boolean;
  /** The KB the state pointed at was gone (deleted by a user): a new one was filled. */
  knowledge_recreated: boolean;
  uploaded: string[];
  downloaded: string[];
  deleted_in_openwebui: string[];
  deleted_in_workspace: string[];
  conflicts: { path: string; copy: string }[];
  pending: string[];
  failed: { path: string; reason: FailureReason; message: string; next_retry_at: string }[];
  skipped: { path: string; reason: string }[];
  guard?: string;
  started_at: string;
  finished_at: string;
}

export type FileSyncState = 'synced' | 'pending' | 'failed' | 'skipped';

export interface FileStatus {
  path: string;
  state: FileSyncState;
  hash: string;
  openwebui_file_id?: string;
  reason?: string;
  message?: string;
  next_retry_at?: string;
}

export interface UserKbStatus {
  knowledge_id: string | null;
  knowledge_name: string;
  last_sync: string | null;
  running: boolean;
  last_error?: string;
  files: FileStatus[];
}

export class KbSync {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly lastErrors = new Map<string, string>();
  private readonly lastSyncs = new Map<string, string>();
  /** Per KB: folder path -> Open WebUI directory id. */
  private readonly dirs = new Map<string, Map<string, string>>();
  private readonly prefix: string;
  private readonly processTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly now: () => Date;

  constructor(private readonly opts: KbSyncOptions) {
    this.prefix = opts.prefix ?? 'workspace';
    this.processTimeoutMs = opts.processTimeoutMs ?? 20_000;
    this.retryBaseMs = opts.retryBaseMs ?? 60_000;
    this.retryCapMs = opts.retryCapMs ?? 6 * 3600_000;
    this.now = opts.now ?? (() => new Date());
  }

  knowledgeName(userId: string): string {
    return `${this.prefix}-${userId}`;
  }

  isRunning(userId: string): boolean {
    return this.locks.has(userId);
  }

  /** Run a round; a second call for the same user waits for the first one to end, then runs. */
  sync(userId: string, direction: Direction = 'bidirectional'): Promise<SyncSummary> {
    const previous = this.locks.get(userId) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => this.lockedRound(userId, direction))
      .then(
        (s) => {
          this.lastErrors.delete(userId);
          return s;
        },
        (e: unknown) => {
          this.lastErrors.set(userId, e instanceof Error ? e.message : String(e));
          throw e;
        },
      );
    // The lock never rejects (the caller gets the error from `run`), so nothing goes unhandled.
    const tracked: Promise<void> = run.then(
      () => this.release(userId, tracked),
      () => this.release(userId, tracked),
    );
    this.locks.set(userId, tracked);
    return run;
  }

  private async lockedRound(userId: string, direction: Direction): Promise<SyncSummary> {
    const done = this.opts.onRoundStart?.();
    try {
      const summary = await (this.opts.lock
        ? this.opts.lock.run(userId, () => this.round(userId, direction))
        : this.round(userId, direction));
      done?.(true);
      return summary;
    } catch (e) {
      done?.(false);
      throw e;
    }
  }

  private release(userId: string, lock: Promise<void>): void {
    if (this.locks.get(userId) === lock) this.locks.delete(userId);
  }

  /** Wait for every running round (shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
  }

  async status(userId: string): Promise<UserKbStatus> {
    const state = await loadState(this.opts.store.stateDir(userId), userId);
    const { files } = await this.opts.store.list(userId).catch(() => ({ files: [] }));
    const out: FileStatus[] = [];
    for (const f of files) {
      const base = state.files[f.path];
      const failure = state.failures[f.path];
      const pending = state.pending[f.path];
      if (base && base.hash === f.hash) {
        out.push({ path: f.path, state: 'synced', hash: f.hash, openwebui_file_id: base.openwebui_file_id });
      } else if (failure && failure.side === 'to_openwebui' && failure.hash === f.hash) {
        out.push({
          path: f.path,
          state: 'failed',
          hash: f.hash,
          reason: failure.reason,
          message: failure.message,
          next_retry_at: failure.next_retry_at,
        });
      } else if (!extensionAllowed(f.path, this.opts.extensions)) {
        out.push({ path: f.path, state: 'skipped', hash: f.hash, reason: 'unsupported_type' });
      } else if (pending && pending.hash === f.hash) {
        out.push({ path: f.path, state: 'pending', hash: f.hash, reason: 'processing', openwebui_file_id: pending.openwebui_file_id });
      } else {
        out.push({ path: f.path, state: 'pending', hash: f.hash });
      }
    }
    const listed = new Set(out.map((f) => f.path));
    for (const [path, f] of Object.entries(state.failures)) {
      if (f.side !== 'from_openwebui' || listed.has(path)) continue;
      out.push({ path, state: 'failed', hash: f.hash, reason: f.reason, message: f.message, next_retry_at: f.next_retry_at });
    }
    const err = this.lastErrors.get(userId);
    return {
      knowledge_id: state.knowledge_id,
      knowledge_name: this.knowledgeName(userId),
      last_sync: latest(state.last_sync, this.lastSyncs.get(userId)),
      running: this.isRunning(userId),
      ...(err ? { last_error: err } : {}),
      files: out.sort((a, b) => a.path.localeCompare(b.path)),
    };
  }

  // ---- the round ----

  private async round(userId: string, direction: Direction): Promise<SyncSummary> {
    const { client, store } = this.opts;
    const started = this.now();
    const stateDir = store.stateDir(userId);
    const state = await loadState(stateDir, userId);
    const before = JSON.stringify(state);
    const summary: SyncSummary = {
      user_id: userId,
      direction,
      knowledge_id: '',
      knowledge_name: this.knowledgeName(userId),
      openwebui_version: await client.version(),
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
    const save = async (): Promise<void> => saveState(stateDir, state);

    const kb = await this.ensureKnowledge(userId, state, summary);
    summary.knowledge_id = kb.id;
    if (JSON.stringify(state) !== before) await save();

    const listing = await store.list(userId);
    const localEntries = new Map(listing.files.map((f) => [f.path, f]));
    const local = new Map(listing.files.map((f) => [f.path, f.hash]));

    const remote = viewRemote(await client.listKnowledgeFiles(kb.id), state);
    // Releases before 0.9.6 do not say the raw-bytes hash: learn it from the bytes.
    for (const r of remote.byPath.values()) {
      if (r.hash === undefined) r.hash = hashBytes(await client.downloadFile(r.id));
    }
    for (const r of remote.ignored) summary.skipped.push({ path: r.name, reason: r.reason });
    if (direction !== 'from_openwebui') {
      for (const leftover of remote.hubLeftovers) {
        await this.dropKbFile(kb.id, leftover.id);
      }
    }

    const localRootGone = await stat(store.workspaceDir(userId)).then(
      (st) => !st.isDirectory(),
      () => true,
    );
    const plan = planRound({ state, local, remote, direction, extensions: this.opts.extensions, now: started, localRootGone });
    if (plan.guard) summary.guard = plan.guard;
    for (const h of plan.held) {
      if (h.why === 'unsupported_type') summary.skipped.push({ path: h.path, reason: 'unsupported_type' });
      else if (h.why === 'backoff')
        summary.failed.push({
          path: h.path,
          reason: h.failure.reason,
          message: h.failure.message,
          next_retry_at: h.failure.next_retry_at,
        });
      else summary.skipped.push({ path: h.path, reason: `${h.decision} held by direction ${direction}` });
    }

    const uploading = new Set(plan.steps.filter((s) => s.kind === 'upload').map((s) => s.path));
    // An upload left pending whose workspace file moved on is garbage the hub made: drop it.
    for (const [path, p] of Object.entries(state.pending)) {
      if (state.files[path]?.openwebui_file_id === p.openwebui_file_id) {
        delete state.pending[path]; // a crash after the add: the round already adopted it
      } else if (local.get(path) !== p.hash || !uploading.has(path)) {
        await client.deleteFile(p.openwebui_file_id).catch(() => undefined);
        delete state.pending[path];
      }
    }
    // Failures whose content is gone or changed are stale.
    for (const [path, f] of Object.entries(state.failures)) {
      const now = f.side === 'from_openwebui' ? remote.byPath.get(path)?.hash : local.get(path);
      if (now !== f.hash) {
        delete state.failures[path];
        await save();
      }
    }

    for (const step of plan.steps) {
      try {
        await this.runStep(userId, kb.id, step, state, localEntries, summary, direction);
      } catch (e) {
        // Open WebUI down or our key refused: the whole round stops; the next one resumes.
        if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) {
          await save();
          throw e;
        }
        this.opts.logger?.warn({ user: userId, path: step.path, err: String(e) }, 'kb sync step failed');
        if (step.kind === 'upload') this.recordFailure(state, summary, step.path, step.hash, 'error', String(e));
        if (step.kind === 'download' || step.kind === 'conflict') {
          // Retried with backoff like uploads, so a file the workspace refuses is not fetched every round.
          const reason: FailureReason = e instanceof StoreError ? 'workspace_refused' : 'error';
          this.recordFailure(state, summary, step.path, step.remote.hash!, reason, e instanceof Error ? e.message : String(e), 'from_openwebui');
        }
      }
      await save();
    }

    state.last_sync = this.now().toISOString();
    const changed = JSON.stringify({ ...state, last_sync: null }) !== JSON.stringify({ ...JSON.parse(before), last_sync: null });
    // Idempotence: a round that changed nothing writes nothing (last_sync is kept in memory only then).
    if (changed) await save();
    this.lastSyncs.set(userId, state.last_sync);
    summary.finished_at = state.last_sync;
    this.opts.logger?.info(
      {
        user: userId,
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

  /**
   * Whether a KB found by name may be adopted: the hub's own KBs are owned by the admin account
   * behind the service key; one the user made themselves is theirs anyway. Any other user could
   * have named a KB like this one: adopting it would hand them the workspace.
   */
  private async trustedOwner(kb: Knowledge, owuiUserId: string): Promise<boolean> {
    if (!kb.user_id || kb.user_id === owuiUserId) return true;
    const owner = await this.opts.client.getUser(kb.user_id);
    return owner?.role === 'admin';
  }

  private async resolveOwuiUser(userId: string): Promise<string> {
    const mapped = this.opts.userMap?.[userId];
    if (!mapped) return userId;
    if (mapped.includes('@')) {
      const u = await this.opts.client.findUserByEmail(mapped);
      if (!u) throw new OpenWebUIError('not_found', `no Open WebUI user with email ${mapped}`);
      return u.id;
    }
    return mapped;
  }

  private async ensureKnowledge(userId: string, state: SyncState, summary: SyncSummary): Promise<Knowledge> {
    const { client } = this.opts;
    const name = this.knowledgeName(userId);
    if (state.knowledge_id) {
      const kb = await client.getKnowledge(state.knowledge_id);
      if (kb) return kb;
    }
    const owuiUser = await this.resolveOwuiUser(userId);
    let kb = await client.findKnowledgeByName(name, (k) => this.trustedOwner(k, owuiUser));
    if (!kb) {
      kb = await client.createKnowledge(name, `YouLab workspace of ${userId} (kept in sync by the hub)`, owuiUser);
      summary.knowledge_created = true;
    }
    if (state.knowledge_id && state.knowledge_id !== kb.id) {
      // The KB the base describes is gone: its files are no evidence of anything any more.
      // Reset the base so the round merges (re-fills the KB) and never deletes from the workspace.
      summary.knowledge_recreated = true;
      for (const f of Object.values(state.files)) {
        if (f.source === 'ralph') await client.deleteFile(f.openwebui_file_id).catch(() => undefined);
      }
      state.files = {};
      state.failures = {};
    }
    state.knowledge_id = kb.id;
    return kb;
  }

  private async runStep(
    userId: string,
    kbId: string,
    step: Step,
    state: SyncState,
    localEntries: Map<string, { size: number; modified: string; hash: string }>,
    summary: SyncSummary,
    direction: Direction,
  ): Promise<void> {
    const { store } = this.opts;
    switch (step.kind) {
      case 'upload':
        await this.upload(userId, kbId, step.path, step.hash, step.replaces, state, summary);
        return;
      case 'download': {
        const bytes = await this.opts.client.downloadFile(step.remote.id);
        const written = await this.writeLocal(userId, step.path, bytes, step.localHash);
        if (!written) return;
        state.files[step.path] = this.baseFromRemote(step.path, step.remote, written);
        summary.downloaded.push(step.path);
        return;
      }
      case 'conflict': {
        const bytes = await this.opts.client.downloadFile(step.remote.id);
        const copy = conflictCopyName(step.path, 'openwebui', this.now());
        const written = await this.writeLocal(userId, copy, bytes, undefined);
        if (!written) return;
        // The KB file now stands for the copy; the workspace's version goes up under the path.
        state.files[copy] = this.baseFromRemote(copy, step.remote, written);
        summary.conflicts.push({ path: step.path, copy });
        if (direction !== 'from_openwebui' && extensionAllowed(step.path, this.opts.extensions)) {
          await this.upload(userId, kbId, step.path, step.localHash, undefined, state, summary);
        }
        return;
      }
      case 'delete-remote':
        await this.dropKbFile(kbId, step.fileId);
        delete state.files[step.path];
        delete state.failures[step.path];
        summary.deleted_in_openwebui.push(step.path);
        return;
      case 'delete-local':
        try {
          await store.remove(userId, step.path, { ifMatch: step.baseHash, source: 'openwebui' });
        } catch (e) {
          // Changed since the base: it is not the file the user removed; it goes up again next round.
          if (e instanceof StoreError && e.code === 'precondition_failed') return;
          if (!(e instanceof StoreError && e.code === 'not_found')) throw e;
        }
        delete state.files[step.path];
        summary.deleted_in_workspace.push(step.path);
        return;
      case 'record-base': {
        const entry = localEntries.get(step.path);
        state.files[step.path] = {
          ...this.baseFromRemote(step.path, step.remote, { size: entry?.size ?? 0, modified: entry?.modified ?? '' }),
        };
        delete state.failures[step.path];
        return;
      }
      case 'drop-base':
        delete state.files[step.path];
        return;
    }
  }

  private baseFromRemote(path: string, r: RemoteFile, f: { size: number; modified: string }): FileState {
    return {
      path,
      hash: r.hash!,
      size: f.size,
      modified: f.modified,
      source: r.hubCreated ? 'ralph' : 'openwebui',
      openwebui_file_id: r.id,
      synced_at: this.now().toISOString(),
    };
  }

  /** Write KB bytes into the workspace with the local hash as precondition; undefined when it moved on. */
  private async writeLocal(
    userId: string,
    path: string,
    bytes: Buffer,
    localHash: string | undefined,
  ): Promise<{ size: number; modified: string } | undefined> {
    try {
      const res = await this.opts.store.write(userId, path, bytes, {
        ...(localHash ? { ifMatch: localHash } : { ifNoneMatch: true }),
        expectedHash: hashBytes(bytes),
        source: 'openwebui',
      });
      return { size: res.size, modified: res.modified };
    } catch (e) {
      if (e instanceof StoreError && e.code === 'precondition_failed') return undefined;
      throw e;
    }
  }

  /**
   * New or changed file: upload, wait for processing, add to the KB, and only then drop the
   * file it replaces, so the KB never loses a file to a failed upload.
   */
  private async upload(
    userId: string,
    kbId: string,
    path: string,
    hash: string,
    replaces: string | undefined,
    state: SyncState,
    summary: SyncSummary,
  ): Promise<void> {
    const { client, store } = this.opts;
    let fileId: string;
    const pending = state.pending[path];
    if (pending && pending.hash === hash) {
      fileId = pending.openwebui_file_id;
    } else {
      const { entry, stream } = await store.read(userId, path);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
      const bytes = Buffer.concat(chunks);
      // Written while we read: leave it to the next round rather than record a torn read.
      if (hashBytes(bytes) !== hash || entry.hash !== hash) {
        summary.pending.push(path);
        return;
      }
      try {
        const up = await client.uploadFile(bytes, path, { path, uploaded_by: HUB_MARKER, hub_hash: hash });
        fileId = up.id;
      } catch (e) {
        if (e instanceof OpenWebUIError && e.kind !== 'unavailable' && e.kind !== 'unauthorized') {
          this.recordFailure(state, summary, path, hash, reasonOf(e.kind), e.message);
          return;
        }
        throw e;
      }
      state.pending[path] = { hash, openwebui_file_id: fileId, uploaded_at: this.now().toISOString() };
    }

    const processed = await client.waitProcessed(fileId, this.processTimeoutMs);
    if (processed.status === 'pending') {
      summary.pending.push(path);
      return;
    }
    if (processed.status === 'failed') {
      const reason: FailureReason = /duplicate content/i.test(processed.error ?? '') ? 'duplicate_content' : 'processing_failed';
      await client.deleteFile(fileId).catch(() => undefined);
      delete state.pending[path];
      this.recordFailure(state, summary, path, hash, reason, processed.error ?? 'processing failed');
      return;
    }
    try {
      const dirId = await this.ensureDirectory(kbId, path);
      try {
        await client.addFileToKnowledge(kbId, fileId, dirId);
      } catch (e) {
        // A folder removed in the web UI since we cached it: checked before processing, so retry.
        if (!dirId || !(e instanceof OpenWebUIError) || !/directory not found/i.test(e.message)) throw e;
        this.dirs.delete(kbId);
        await client.addFileToKnowledge(kbId, fileId, await this.ensureDirectory(kbId, path));
      }
    } catch (e) {
      if (e instanceof OpenWebUIError && e.kind === 'unavailable') throw e;
      // A failed add marks the file failed: it is of no further use; the old KB file stays.
      await client.deleteFile(fileId).catch(() => undefined);
      delete state.pending[path];
      const kind = e instanceof OpenWebUIError ? e.kind : 'error';
      this.recordFailure(state, summary, path, hash, reasonOf(kind), e instanceof Error ? e.message : String(e));
      return;
    }
    delete state.pending[path];
    const previous = state.files[path]?.openwebui_file_id ?? replaces;
    const entry = await store.stat(userId, path).catch(() => undefined);
    state.files[path] = {
      path,
      hash,
      size: entry?.size ?? 0,
      modified: entry?.modified ?? '',
      source: 'ralph',
      openwebui_file_id: fileId,
      synced_at: this.now().toISOString(),
    };
    delete state.failures[path];
    summary.uploaded.push(path);
    if (previous && previous !== fileId) await this.dropKbFile(kbId, previous);
  }

  /**
   * The KB folder for a file's parent path, created level by level (0.9.6+), so the web UI shows
   * the workspace's tree. Best effort: without it the file goes to the KB's root, which changes
   * nothing for sync (the path lives in the state and the upload metadata).
   */
  private async ensureDirectory(kbId: string, path: string): Promise<string | undefined> {
    const slash = path.lastIndexOf('/');
    if (slash < 0) return undefined;
    const { client } = this.opts;
    try {
      if (!(await client.supportsDirectories())) return undefined;
      let cache = this.dirs.get(kbId);
      if (!cache) this.dirs.set(kbId, (cache = new Map()));
      let parent: string | null = null;
      let prefix = '';
      for (const name of path.slice(0, slash).split('/')) {
        prefix = prefix ? `${prefix}/${name}` : name;
        let id = cache.get(prefix);
        if (!id) {
          const find = async (): Promise<string | undefined> =>
            (await client.listDirectories(kbId, parent)).find((d) => d.name === name)?.id;
          id = (await find()) ?? (await client.createDirectory(kbId, name, parent).then((d) => d.id, find));
          if (!id) return undefined;
          cache.set(prefix, id);
        }
        parent = id;
      }
      return parent ?? undefined;
    } catch (e) {
      if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) throw e;
      this.opts.logger?.warn({ kb: kbId, path, err: String(e) }, 'KB folder not created; file goes to the root');
      return undefined;
    }
  }

  /** Unlink from the KB and delete the file (vectors, row, bytes); already gone is fine. */
  private async dropKbFile(kbId: string, fileId: string): Promise<void> {
    try {
      await this.opts.client.removeFileFromKnowledge(kbId, fileId);
    } catch (e) {
      if (!(e instanceof OpenWebUIError) || e.kind === 'unavailable' || e.kind === 'unauthorized') throw e;
    }
    await this.opts.client.deleteFile(fileId);
  }

  private recordFailure(
    state: SyncState,
    summary: SyncSummary,
    path: string,
    hash: string,
    reason: FailureReason,
    message: string,
    side: 'to_openwebui' | 'from_openwebui' = 'to_openwebui',
  ): void {
    const f = nextFailure(state.failures[path], hash, reason, message, this.now(), this.retryBaseMs, this.retryCapMs, side);
    state.failures[path] = f;
    summary.failed.push({ path, reason, message, next_retry_at: f.next_retry_at });
  }
}

function latest(a: string | null, b: string | undefined): string | null {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function reasonOf(kind: string): FailureReason {
  switch (kind) {
    case 'duplicate_content':
    case 'unsupported_type':
    case 'too_large':
      return kind;
    case 'processing_failed':
    case 'not_processed':
      return 'processing_failed';
    default:
      return 'error';
  }
}
