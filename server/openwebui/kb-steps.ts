// Carrying out one round's steps (plan.ts decides them): uploads that replace a KB file only after
// the new one is processed and added, downloads and deletes with the workspace's hash as
// precondition, and a failure record with backoff for what Open WebUI or the workspace refuses.
import type { BackoffRule } from '../../shared/failure.ts';
import { hashBytes } from '../../shared/node/hash.ts';
import { StoreError } from '../store-error.ts';
import type { WorkspaceStore } from '../workspace/types.ts';
import type { OpenWebUIClient } from './client.ts';
import { OpenWebUIError } from './http.ts';
import type { KbSyncLogger, SyncSummary } from './kb-types.ts';
import { HUB_MARKER } from './markers.ts';
import { extensionAllowed, nextKbFailure, type Direction, type RemoteFile, type Step } from './plan.ts';
import type { FailureReason, FailureSide, FileState, SyncState } from './state-schema.ts';

export interface KbStepsOptions {
  client: OpenWebUIClient;
  store: WorkspaceStore;
  extensions: readonly string[];
  /** How long a round waits for one upload's processing before leaving it pending. */
  processTimeoutMs: number;
  /** Backoff of a failed file (shared/failure.ts). */
  backoff: BackoffRule;
  now: () => Date;
  logger?: KbSyncLogger | undefined;
}

/** A workspace file as the round listed it. */
export interface LocalEntry {
  size: number;
  modified: string;
  hash: string;
}

/** The round a step belongs to: one user's workspace and KB, and what the round records. */
export interface RoundContext {
  userId: string;
  kbId: string;
  direction: Direction;
  state: SyncState;
  summary: SyncSummary;
  localEntries: ReadonlyMap<string, LocalEntry>;
}

export class KbSteps {
  /** Per KB: folder path -> Open WebUI directory id. */
  private readonly dirs = new Map<string, Map<string, string>>();

  constructor(private readonly opts: KbStepsOptions) {}

  async run(ctx: RoundContext, step: Step): Promise<void> {
    const { state, summary } = ctx;
    switch (step.kind) {
      case 'upload':
        await this.upload(ctx, step.path, step.hash, step.replaces);
        return;
      case 'download': {
        const bytes = await this.opts.client.downloadFile(step.remote.id);
        const written = await this.writeLocal(ctx.userId, step.path, bytes, step.localHash);
        if (!written) return;
        state.files[step.path] = this.baseFromRemote(step.path, step.remote, written);
        summary.downloaded.push(step.path);
        return;
      }
      case 'conflict':
        await this.conflict(ctx, step);
        return;
      case 'delete-remote':
        await this.dropKbFile(ctx.kbId, step.fileId);
        delete state.files[step.path];
        delete state.failures[step.path];
        summary.deleted_in_openwebui.push(step.path);
        return;
      case 'delete-local':
        try {
          await this.opts.store.remove(ctx.userId, step.path, { ifMatch: step.baseHash, source: 'openwebui' });
        } catch (e) {
          // Changed since the base: it is not the file the user removed; it goes up again next round.
          if (e instanceof StoreError && e.code === 'precondition_failed') return;
          if (!(e instanceof StoreError && e.code === 'not_found')) throw e;
        }
        delete state.files[step.path];
        summary.deleted_in_workspace.push(step.path);
        return;
      case 'record-base': {
        const entry = ctx.localEntries.get(step.path);
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

  private async conflict(ctx: RoundContext, step: Extract<Step, { kind: 'conflict' }>): Promise<void> {
    const bytes = await this.opts.client.downloadFile(step.remote.id);
    const copy = step.copy; // a free name, chosen by the plan
    const written = await this.writeLocal(ctx.userId, copy, bytes, undefined);
    if (!written) return;
    // The KB file now stands for the copy; the workspace's version goes up under the path.
    ctx.state.files[copy] = this.baseFromRemote(copy, step.remote, written);
    ctx.summary.conflicts.push({ path: step.path, copy });
    if (ctx.direction !== 'from_openwebui' && extensionAllowed(step.path, this.opts.extensions)) {
      await this.upload(ctx, step.path, step.localHash, undefined);
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
      synced_at: this.opts.now().toISOString(),
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
  private async upload(ctx: RoundContext, path: string, hash: string, replaces: string | undefined): Promise<void> {
    const { state, summary } = ctx;
    const fileId = await this.uploadOrResume(ctx, path, hash);
    if (fileId === undefined) return;
    if (!(await this.processAndAdd(ctx, path, hash, fileId))) return;
    delete state.pending[path];
    const previous = state.files[path]?.openwebui_file_id ?? replaces;
    const entry = await this.opts.store.stat(ctx.userId, path).catch(() => undefined); // the file changed or vanished meanwhile: its size and date are left out, the next round records them
    state.files[path] = {
      path,
      hash,
      size: entry?.size ?? 0,
      modified: entry?.modified ?? '',
      source: 'ralph',
      openwebui_file_id: fileId,
      synced_at: this.opts.now().toISOString(),
    };
    delete state.failures[path];
    summary.uploaded.push(path);
    if (previous && previous !== fileId) await this.dropKbFile(ctx.kbId, previous);
  }

  /** The Open WebUI file holding these bytes: the pending one, or a new upload; undefined when this round is done with the path. */
  private async uploadOrResume(ctx: RoundContext, path: string, hash: string): Promise<string | undefined> {
    const { state, summary } = ctx;
    const pending = state.pending[path];
    if (pending && pending.hash === hash) return pending.openwebui_file_id;
    const { entry, stream } = await this.opts.store.read(ctx.userId, path);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
    const bytes = Buffer.concat(chunks);
    // Written while we read: leave it to the next round rather than record a torn read.
    if (hashBytes(bytes) !== hash || entry.hash !== hash) {
      summary.pending.push(path);
      return undefined;
    }
    let fileId: string;
    try {
      const up = await this.opts.client.uploadFile(bytes, path, { path, uploaded_by: HUB_MARKER, hub_hash: hash });
      fileId = up.id;
    } catch (e) {
      if (e instanceof OpenWebUIError && e.kind !== 'unavailable' && e.kind !== 'unauthorized') {
        this.recordFailure(ctx, path, hash, reasonOf(e.kind), e.message);
        return undefined;
      }
      throw e;
    }
    state.pending[path] = { hash, openwebui_file_id: fileId, uploaded_at: this.opts.now().toISOString() };
    return fileId;
  }

  /** Wait for processing and add the file to the KB; false when it is still pending or failed (recorded). */
  private async processAndAdd(ctx: RoundContext, path: string, hash: string, fileId: string): Promise<boolean> {
    const { client } = this.opts;
    const { state, summary } = ctx;
    const processed = await client.waitProcessed(fileId, this.opts.processTimeoutMs);
    if (processed.status === 'pending') {
      summary.pending.push(path);
      return false;
    }
    if (processed.status === 'failed') {
      const reason: FailureReason = /duplicate content/i.test(processed.error ?? '') ? 'duplicate_content' : 'processing_failed';
      await client.deleteFile(fileId).catch(() => undefined); // a failed upload Open WebUI keeps is an orphan, never added to the KB
      delete state.pending[path];
      this.recordFailure(ctx, path, hash, reason, processed.error ?? 'processing failed');
      return false;
    }
    try {
      await this.addToKnowledge(ctx.kbId, fileId, path);
    } catch (e) {
      if (e instanceof OpenWebUIError && e.kind === 'unavailable') throw e;
      // A failed add marks the file failed: it is of no further use; the old KB file stays.
      await client.deleteFile(fileId).catch(() => undefined);
      delete state.pending[path];
      const kind = e instanceof OpenWebUIError ? e.kind : 'error';
      this.recordFailure(ctx, path, hash, reasonOf(kind), e instanceof Error ? e.message : String(e));
      return false;
    }
    return true;
  }

  private async addToKnowledge(kbId: string, fileId: string, path: string): Promise<void> {
    const { client } = this.opts;
    const dirId = await this.ensureDirectory(kbId, path);
    try {
      await client.addFileToKnowledge(kbId, fileId, dirId);
    } catch (e) {
      // A folder removed in the web UI since we cached it: checked before processing, so retry.
      if (!dirId || !(e instanceof OpenWebUIError) || !/directory not found/i.test(e.message)) throw e;
      this.dirs.delete(kbId);
      await client.addFileToKnowledge(kbId, fileId, await this.ensureDirectory(kbId, path));
    }
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
  async dropKbFile(kbId: string, fileId: string): Promise<void> {
    try {
      await this.opts.client.removeFileFromKnowledge(kbId, fileId);
    } catch (e) {
      if (!(e instanceof OpenWebUIError) || e.kind === 'unavailable' || e.kind === 'unauthorized') throw e;
    }
    await this.opts.client.deleteFile(fileId);
  }

  /** Record a failed transfer of `hash` (its backoff grows while the content stays the same) and report it. */
  recordFailure(
    ctx: Pick<RoundContext, 'state' | 'summary'>,
    path: string,
    hash: string,
    reason: FailureReason,
    message: string,
    side: FailureSide = 'to_openwebui',
  ): void {
    const f = nextKbFailure(ctx.state.failures[path], { side, hash, reason, message }, this.opts.now(), this.opts.backoff);
    ctx.state.failures[path] = f;
    ctx.summary.failed.push({ path, reason, message, next_retry_at: f.next_retry_at });
  }
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
