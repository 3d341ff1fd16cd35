// Carrying out one round's steps (plan.ts decides them): downloads and deletes with the
// workspace's hash as precondition, and a failure record with backoff for what Open WebUI or the
// workspace refuses. Uploads go through kb-upload.ts; what rounds share (the KB folder ids) lives
// here, one per hub.
import type { BackoffRule } from '../../shared/failure.ts';
import { hashBytes } from '../../shared/node/hash.ts';
import { StoreError } from '../store-error.ts';
import type { WorkspaceStore } from '../workspace/types.ts';
import type { OpenWebUIClient } from './client.ts';
import { OpenWebUIError } from './http.ts';
import { KbFolders } from './kb-dirs.ts';
import type { KbSyncLogger, SyncSummary } from './kb-types.ts';
import type { UploadJob } from './kb-upload.ts';
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
  /** Transfers to Open WebUI at once in one round (RALPH_SYNC_CONCURRENCY). */
  concurrency: number;
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
  /** Hands an upload to the round's upload pipeline (kb-upload.ts). */
  upload: (job: UploadJob) => Promise<void>;
}

export class KbSteps {
  /** KB folder ids, kept between rounds. */
  readonly folders: KbFolders;

  constructor(readonly options: KbStepsOptions) {
    this.folders = new KbFolders(options.client, options.logger);
  }

  async run(ctx: RoundContext, step: Step): Promise<void> {
    const { state, summary } = ctx;
    switch (step.kind) {
      case 'upload':
        await ctx.upload({ path: step.path, hash: step.hash, replaces: step.replaces });
        return;
      case 'download': {
        const bytes = await this.options.client.downloadFile(step.remote.id);
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
          await this.options.store.remove(ctx.userId, step.path, { ifMatch: step.baseHash, source: 'openwebui' });
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
    const bytes = await this.options.client.downloadFile(step.remote.id);
    // A free name, chosen by the plan (shared/conflict-name.ts `freeConflictCopyName`); taken
    // meanwhile by someone else, the write is refused and the next round chooses again.
    const copy = step.copy;
    const written = await this.writeLocal(ctx.userId, copy, bytes, undefined);
    if (!written) return;
    // The KB file now stands for the copy; the workspace's version goes up under the path.
    ctx.state.files[copy] = this.baseFromRemote(copy, step.remote, written);
    ctx.summary.conflicts.push({ path: step.path, copy });
    if (ctx.direction !== 'from_openwebui' && extensionAllowed(step.path, this.options.extensions)) {
      await ctx.upload({ path: step.path, hash: step.localHash });
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
      synced_at: this.options.now().toISOString(),
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
      const res = await this.options.store.write(userId, path, bytes, {
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

  /** Unlink from the KB and delete the file (vectors, row, bytes); already gone is fine. */
  async dropKbFile(kbId: string, fileId: string): Promise<void> {
    // 0.12.4: the delete unlinks the file from every KB and drops its vectors there, in one call.
    if (await this.options.client.supportsQuickUploads()) return this.options.client.deleteFile(fileId);
    try {
      await this.options.client.removeFileFromKnowledge(kbId, fileId);
    } catch (e) {
      if (!(e instanceof OpenWebUIError) || e.kind === 'unavailable' || e.kind === 'unauthorized') throw e;
    }
    await this.options.client.deleteFile(fileId);
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
    const f = nextKbFailure(ctx.state.failures[path], { side, hash, reason, message }, this.options.now(), this.options.backoff);
    ctx.state.failures[path] = f;
    ctx.summary.failed.push({ path, reason, message, next_retry_at: f.next_retry_at });
  }
}
