// One round's uploads (docs/SYNC-SPEC.md "New or changed file"): read the workspace file, upload
// it, wait until Open WebUI has processed it, add it to the KB, record the base, and only then
// drop the KB file it replaces. Several files go at once (RALPH_SYNC_CONCURRENCY, the round's
// limiter), and processed files are added in batches on releases that offer it
// (docs/OPENWEBUI-API.md "Uploads and processing"); before 0.12.4 each one is added alone.
import { randomUUID } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import { hashBytes } from '../../shared/node/hash.ts';
import { OpenWebUIError, type FailureKind } from './http.ts';
import type { KbSteps, RoundContext } from './kb-steps.ts';
import { HUB_MARKER } from './markers.ts';
import type { FailureReason } from './state-schema.ts';

/** One path to upload: the content the plan saw, and the KB file it replaces (if any). */
export interface UploadJob {
  path: string;
  hash: string;
  replaces?: string | undefined;
}

/** A processed upload waiting to be added, and how its job learns the outcome. */
interface Ready {
  job: UploadJob;
  fileId: string;
  dirId: string | undefined;
  size: number;
  modified: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

type AddOutcome = 'added' | { refused: string; kind: FailureKind } | undefined;

/**
 * Files per `files/batch/add`: their texts are embedded and stored in one go. Measured against
 * 0.12.4 (tests/bench/probe/kb-round-probe.ts): fewer, bigger batches win, since every call also
 * answers the KB's whole file list; flushing whatever is ready as soon as the last call ended
 * (batches of ~6) took a third longer than batches of 50, and 100 did a little better still.
 */
export const BATCH_ADD_SIZE = 100;

export interface KbUploadsOptions {
  steps: KbSteps;
  /** The round's limiter of transfers to Open WebUI (uploads with their processing, drops). */
  limit: LimitFunction;
  /** 0.12.4+: processing inside the upload request, batch add, one-call delete (http.ts). */
  quick: boolean;
  /** Write the state file (before an old KB file is dropped on the strength of it). */
  save: () => Promise<void>;
}

export class KbUploads {
  /** Jobs between their turn and a processed upload (or their end): while any run, a short batch waits for more. */
  private active = 0;
  private readonly ready: Ready[] = [];
  private flushing: Promise<void> | undefined;
  private readonly lastOfHash = new Map<string, Promise<void>>();
  private fatal: unknown;
  private readonly batchSize: number;

  constructor(
    private readonly opts: KbUploadsOptions,
    private readonly ctx: RoundContext,
  ) {
    this.batchSize = opts.quick ? BATCH_ADD_SIZE : 1;
  }

  /** The round stops (Open WebUI down, key refused): start nothing new. */
  stop(e: unknown): void {
    this.fatal ??= e;
  }

  /** Carry one upload to its end: added (old file dropped), pending, or failed (recorded). */
  async run(job: UploadJob): Promise<void> {
    // The same bytes under two paths: the earlier path (plan order) goes first, so which copy the
    // KB keeps and which one it refuses as duplicate content does not depend on timing.
    const before = this.lastOfHash.get(job.hash);
    let done!: () => void;
    this.lastOfHash.set(job.hash, new Promise<void>((r) => (done = r)));
    try {
      await before;
      await this.runInTurn(job);
    } finally {
      done();
    }
  }

  private async runInTurn(job: UploadJob): Promise<void> {
    let added: Promise<void> | undefined;
    this.active++;
    try {
      const r = await this.opts.limit(() => this.prepare(job));
      if (r) added = new Promise<void>((resolve, reject) => this.ready.push({ ...r, resolve, reject }));
    } finally {
      this.active--;
      this.kick();
    }
    await added;
  }

  /**
   * Flush when a batch is full, or when no running job could still join it (so a single file is
   * added as soon as it is processed).
   */
  private kick(): void {
    if (this.flushing || this.ready.length === 0) return;
    if (this.ready.length < this.batchSize && this.active > 0) return;
    this.flushing = this.flushAll().finally(() => {
      this.flushing = undefined;
      this.kick();
    });
  }

  private async flushAll(): Promise<void> {
    while (this.ready.length > 0 && (this.ready.length >= this.batchSize || this.active === 0)) {
      const batch = this.ready.splice(0, this.batchSize);
      try {
        await this.flush(batch);
        for (const r of batch) r.resolve();
      } catch (e) {
        // The jobs carry the error to the round (which stops on Open WebUI errors).
        for (const r of batch) r.reject(e);
      }
    }
  }

  /** The upload for a job, processed: undefined when this round is done with the path (pending or failed, recorded). */
  private async prepare(job: UploadJob): Promise<Omit<Ready, 'resolve' | 'reject'> | undefined> {
    if (this.fatal !== undefined) throw this.fatal;
    const file = await this.uploadOrResume(job);
    if (!file || !(await this.processed(job, file.fileId))) return undefined;
    const dirId = await this.opts.steps.folders.forFile(this.ctx.kbId, job.path);
    return { job, ...file, dirId };
  }

  /** The Open WebUI file holding these bytes: the pending one, or a new upload. */
  private async uploadOrResume(job: UploadJob): Promise<{ fileId: string; size: number; modified: string } | undefined> {
    const { state, summary, localEntries } = this.ctx;
    const { path, hash } = job;
    const pending = state.pending[path];
    const listed = localEntries.get(path);
    if (pending && pending.hash === hash) return { fileId: pending.openwebui_file_id, size: listed?.size ?? 0, modified: listed?.modified ?? '' };
    const { store } = this.opts.steps.options;
    const { entry, stream } = await store.read(this.ctx.userId, path);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
    const bytes = Buffer.concat(chunks);
    // Written while we read: leave it to the next round rather than record a torn read.
    if (hashBytes(bytes) !== hash || entry.hash !== hash) {
      summary.pending.push(path);
      return undefined;
    }
    const fileId = await this.upload(job, bytes);
    if (fileId === undefined) return undefined;
    state.pending[path] = { hash, openwebui_file_id: fileId, uploaded_at: this.opts.steps.options.now().toISOString() };
    return { fileId, size: entry.size, modified: entry.modified };
  }

  private async upload(job: UploadJob, bytes: Buffer): Promise<string | undefined> {
    const { client } = this.opts.steps.options;
    const { path, hash } = job;
    // `hub_upload` names this very upload, so one whose answer came too late can be found again.
    const nonce = randomUUID();
    const metadata = { path, uploaded_by: HUB_MARKER, hub_hash: hash, hub_upload: nonce };
    try {
      const quick = this.opts.quick ? { processInlineForMs: this.opts.steps.options.processTimeoutMs } : {};
      return (await client.uploadFile(bytes, path, metadata, quick)).id;
    } catch (e) {
      if (!(e instanceof OpenWebUIError) || e.kind === 'unavailable' || e.kind === 'unauthorized') throw e;
      if (e.kind === 'still_processing') return this.stillProcessing(job, nonce);
      this.opts.steps.recordFailure(this.ctx, path, hash, reasonOf(e.kind), e.message);
      return undefined;
    }
  }

  /**
   * Open WebUI was still processing when the wait ran out: find the upload by its nonce and keep
   * it pending, so the next round goes on with the same file id instead of uploading again.
   */
  private async stillProcessing({ path, hash }: UploadJob, nonce: string): Promise<undefined> {
    const { client, now } = this.opts.steps.options;
    const { state, summary } = this.ctx;
    const found = await client.findFile(path.slice(path.lastIndexOf('/') + 1), (d) => d['hub_upload'] === nonce);
    summary.pending.push(path);
    // Not found (the answer was late before the file was even stored): the next round uploads again.
    if (found) state.pending[path] = { hash, openwebui_file_id: found.id, uploaded_at: now().toISOString() };
    return undefined;
  }

  /** Wait for processing; false when it is still pending or failed (recorded, the upload deleted). */
  private async processed(job: UploadJob, fileId: string): Promise<boolean> {
    const { client } = this.opts.steps.options;
    const { state, summary } = this.ctx;
    const processed = await client.waitProcessed(fileId, this.opts.steps.options.processTimeoutMs);
    if (processed.status === 'pending') {
      summary.pending.push(job.path);
      return false;
    }
    if (processed.status === 'failed') {
      const reason: FailureReason = /duplicate content/i.test(processed.error ?? '') ? 'duplicate_content' : 'processing_failed';
      await client.deleteFile(fileId).catch(() => undefined); // a failed upload Open WebUI keeps is an orphan, never added to the KB
      delete state.pending[job.path];
      this.opts.steps.recordFailure(this.ctx, job.path, job.hash, reason, processed.error ?? 'processing failed');
      return false;
    }
    return true;
  }

  /** Add one batch, record what went in, write the state, and only then drop the files they replace. */
  private async flush(batch: Ready[]): Promise<void> {
    if (this.fatal !== undefined) throw this.fatal;
    const outcome = await this.add(batch);
    const { state, summary } = this.ctx;
    const { client, now } = this.opts.steps.options;
    const replaced: string[] = [];
    const refusals: Promise<void>[] = [];
    for (const r of batch) {
      const o = outcome.get(r.fileId);
      const { path, hash } = r.job;
      if (o === 'added') {
        const previous = state.files[path]?.openwebui_file_id ?? r.job.replaces;
        state.files[path] = { path, hash, size: r.size, modified: r.modified, source: 'ralph', openwebui_file_id: r.fileId, synced_at: now().toISOString() };
        delete state.pending[path];
        delete state.failures[path];
        summary.uploaded.push(path);
        if (previous && previous !== r.fileId) replaced.push(previous);
      } else if (o === undefined) {
        summary.pending.push(path); // not known to be in: the next round sends the same file id again
      } else {
        // A refused add marks the file failed: it is of no further use; the old KB file stays.
        refusals.push(client.deleteFile(r.fileId).catch(() => undefined)); // gone already, or an orphan the KB never lists
        delete state.pending[path];
        this.opts.steps.recordFailure(this.ctx, path, hash, reasonOf(o.kind), o.refused);
      }
    }
    await Promise.all(refusals);
    await this.opts.save().catch((e: unknown) => {
      throw new StateWriteError(e);
    });
    await Promise.all(replaced.map((id) => this.opts.limit(() => this.dropReplaced(id))));
  }

  private async dropReplaced(fileId: string): Promise<void> {
    try {
      await this.opts.steps.dropKbFile(this.ctx.kbId, fileId);
    } catch (e) {
      if (!(e instanceof OpenWebUIError) || e.kind === 'unavailable' || e.kind === 'unauthorized') throw e;
      // The new file is in and recorded; a hub file left beside it is a leftover the next round drops.
      this.opts.steps.options.logger?.warn({ kb: this.ctx.kbId, fileId, err: String(e) }, 'replaced KB file not dropped');
    }
  }

  /**
   * What became of each file of the batch: added, refused (why), or not known (stays pending).
   * 0.12.4's batch add says only which files went in, so the others are added one by one, whose
   * answer says why Open WebUI refuses them (or adds them after all).
   */
  private async add(batch: Ready[]): Promise<Map<string, AddOutcome>> {
    const out = new Map<string, AddOutcome>();
    let rest = batch;
    if (this.opts.quick) {
      const { client, logger } = this.opts.steps.options;
      try {
        const added = await client.addFilesToKnowledge(
          this.ctx.kbId,
          batch.map((r) => ({ file_id: r.fileId, ...(r.dirId ? { directory_id: r.dirId } : {}) })),
        );
        for (const r of batch) if (added.has(r.fileId)) out.set(r.fileId, 'added');
        rest = batch.filter((r) => !added.has(r.fileId));
      } catch (e) {
        if (!(e instanceof OpenWebUIError) || e.kind === 'unavailable' || e.kind === 'unauthorized') throw e;
        logger?.warn({ kb: this.ctx.kbId, files: batch.length, err: String(e) }, 'batch add refused; adding one by one');
        // Only a refusal of the whole request (a folder deleted in the web UI, a file gone) goes on one
        // by one, which finds the culprit; an answer the hub cannot read leaves the files pending.
        if (e.status !== 400) return out;
      }
    }
    for (const r of rest) out.set(r.fileId, await this.addOne(r));
    return out;
  }

  private async addOne(r: Ready): Promise<AddOutcome> {
    const { client } = this.opts.steps.options;
    try {
      try {
        await client.addFileToKnowledge(this.ctx.kbId, r.fileId, r.dirId);
      } catch (e) {
        // A folder removed in the web UI since it was looked up: look it up again, once.
        if (!r.dirId || !(e instanceof OpenWebUIError) || !/directory not found/i.test(e.message)) throw e;
        this.opts.steps.folders.forget(this.ctx.kbId);
        await client.addFileToKnowledge(this.ctx.kbId, r.fileId, await this.opts.steps.folders.forFile(this.ctx.kbId, r.job.path));
      }
      return 'added';
    } catch (e) {
      if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) throw e;
      return { refused: e instanceof Error ? e.message : String(e), kind: e instanceof OpenWebUIError ? e.kind : 'error' };
    }
  }
}

/** The state file could not be written: the round stops before anything depends on it. */
export class StateWriteError extends Error {
  constructor(override readonly cause: unknown) {
    super(`KB sync state not written: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StateWriteError';
  }
}

export function reasonOf(kind: string): FailureReason {
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
