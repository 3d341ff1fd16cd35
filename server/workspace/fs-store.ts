// The hub's workspace store on the local filesystem: the public face over its parts.
//   store-core.ts      folder layout, per-user state, the change feed, work in flight, shutdown
//   listing.ts         listings, conditional-listing checks, verification walks, stat and read
//   write-pipeline.ts  uploads, batch writes, deletes, versions (write-apply.ts: the locked steps)
//   agent-changes.ts   changes the agent made straight in the folder
// Writes are serialised per user (check + version + rename under one lock), so two
// conditional writes can never both win and the quota is counted without races.
import type { Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Change, Changes, FileEntry, PutResult } from '../../shared/protocol.ts';
import type { ChangeFilter, Journal } from '../coordination/journal.ts';
import { AgentChanges } from './agent-changes.ts';
import { deletedFiles, type DeletedPath } from './deleted-files.ts';
import { validPath } from './fs-paths.ts';
import { WorkspaceReads } from './listing.ts';
import { StoreCore, type FsStoreOptions } from './store-core.ts';
import type { DeleteOptions, WorkspaceStore, WriteOptions } from './types.ts';
import type { Version } from './versions.ts';
import type { BatchResult } from './write-apply.ts';
import { WritePipeline, type BatchItem, type PruneSummary } from './write-pipeline.ts';

export type { FsStoreOptions, WriteLock } from './store-core.ts';
export type { BatchResult } from './write-apply.ts';
export type { BatchItem, PruneSummary } from './write-pipeline.ts';

export class FsWorkspaceStore implements WorkspaceStore {
  readonly journal: Journal;
  private readonly core: StoreCore;
  private readonly reads: WorkspaceReads;
  private readonly writes: WritePipeline;
  private readonly agent: AgentChanges;

  constructor(readonly opts: FsStoreOptions) {
    this.core = new StoreCore(opts);
    this.journal = this.core.journal;
    this.agent = new AgentChanges(this.core);
    this.reads = new WorkspaceReads(this.core, this.agent);
    this.writes = new WritePipeline(this.core);
  }

  /** Another instance changed this user's workspace: the cached usage may be stale. */
  forgetUsage(userId: string): void {
    this.core.forgetUsage(userId);
  }

  // ---- layout -------------------------------------------------------------------------

  userDir(userId: string): string {
    return this.core.userDir(userId);
  }
  workspaceDir(userId: string): string {
    return this.core.workspaceDir(userId);
  }
  stateDir(userId: string): string {
    return this.core.stateDir(userId);
  }
  tmpDir(userId: string): string {
    return this.core.tmpDir(userId);
  }
  users(): Promise<string[]> {
    return this.core.users();
  }

  // ---- change feed --------------------------------------------------------------------

  onChange(listener: (userId: string, change: Change) => void): () => void {
    return this.core.onChange(listener);
  }
  changes(userId: string, since: unknown, waitMs: number, signal?: AbortSignal, filter?: ChangeFilter): Promise<Changes> {
    return this.core.changes(userId, since, waitMs, signal, filter);
  }

  // ---- reads (listing.ts) -------------------------------------------------------------

  list(userId: string): Promise<{ cursor: string; files: FileEntry[] }> {
    return this.reads.list(userId);
  }
  /** A conditional listing may answer 304 (listing.ts). */
  unchangedSince(userId: string, cursor: string): Promise<boolean> {
    return this.reads.unchangedSince(userId, cursor);
  }
  /** A background verification walk (verify-walk.ts); none starts once the store is closing. */
  verify(userId: string): Promise<void> {
    return this.reads.verify(userId);
  }
  /** When this instance last started a full walk of the user's workspace (epoch ms). */
  lastWalkAt(userId: string): number | undefined {
    return this.reads.lastWalkAt(userId);
  }
  stat(userId: string, path: string): Promise<FileEntry | undefined> {
    return this.reads.stat(userId, path);
  }
  read(userId: string, path: string): Promise<{ entry: FileEntry; stream: Readable }> {
    return this.reads.read(userId, path);
  }

  // ---- writes (write-pipeline.ts) -----------------------------------------------------

  write(userId: string, path: string, body: Readable | Uint8Array, opts: WriteOptions): Promise<PutResult> {
    return this.writes.write(userId, path, body, opts);
  }
  /** Many small files, each with the semantics of `write()`, under one lock (write-pipeline.ts). */
  writeMany(userId: string, items: readonly BatchItem[]): Promise<BatchResult[]> {
    return this.writes.writeMany(userId, items);
  }
  remove(userId: string, path: string, opts: DeleteOptions): Promise<void> {
    return this.writes.remove(userId, path, opts);
  }
  versions(userId: string, path: string): Promise<Version[]> {
    return this.writes.versions(userId, path);
  }
  /** Puts a kept version back through the normal write path; the replaced content is kept in turn. */
  restore(userId: string, path: string, versionId: string, origin?: string): Promise<PutResult> {
    return this.writes.restore(userId, path, versionId, origin);
  }
  pruneVersions(now = Date.now()): Promise<PruneSummary> {
    return this.writes.pruneVersions(now);
  }
  /** Paths with kept versions that the workspace no longer holds, most recently deleted first (deleted-files.ts). */
  deleted(userId: string): Promise<{ files: DeletedPath[]; truncated: boolean }> {
    return deletedFiles(this.core, userId);
  }
  /** One kept version's bytes on disk (a hard link or copy; never changed once kept), or undefined. */
  async versionBlob(userId: string, path: string, versionId: string): Promise<{ version: Version; blob: string } | undefined> {
    const p = validPath(path, false);
    return (await this.core.state(userId)).versions.find(p, versionId);
  }

  // ---- the agent writing straight into the folder (agent-changes.ts) ------------------

  recordExternal(userId: string, relOnDisk: string, kind: 'upsert' | 'delete'): Promise<void> {
    return this.agent.recordExternal(userId, relOnDisk, kind);
  }
  isOwnFile(userId: string, relOnDisk: string, st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): boolean {
    return this.agent.isOwnFile(userId, relOnDisk, st);
  }

  /** Shutdown: long polls answer, writes under way finish or fail, hash caches are saved (store-core.ts). */
  close(drainMs = 10_000): Promise<void> {
    return this.core.close(drainMs);
  }
}
