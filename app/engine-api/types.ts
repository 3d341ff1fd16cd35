// The contract between the sync engine and whatever shows it (the Electron shell, the CLI, the
// renderer pages through app/ipc). The engine emits these; the shell never reaches into engine
// internals. Pure: types only, no Node and no Electron imports, so app/sync, app/main, app/ipc
// and app/renderer can all import it (app/ipc and app/renderer never import app/sync).

export type EnginePhase =
  | 'idle' // up to date
  | 'scanning'
  | 'syncing'
  | 'paused'
  | 'offline' // hub unreachable, reconnecting with backoff
  | 'error' // needs the user (auth failure, folder missing, mass-delete guard...)
  | 'stopped';

export interface EngineProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export type EngineErrorCode =
  | 'auth' // 401/403: key wrong or revoked
  | 'folder_missing'
  | 'mass_delete' // guard stopped the round
  | 'quota' // 507
  | 'too_large' // 413 for a file
  | 'bad_path' // a name the hub refuses (or this filesystem cannot hold)
  | 'clash' // file/folder or case-only clash that needs the user
  | 'rate_limited'
  | 'network'
  | 'internal';

export interface EngineIssue {
  code: EngineErrorCode;
  message: string;
  /** What the user can do about it, one sentence. */
  hint?: string;
  path?: string;
  /** mass_delete: where the stopped round would have deleted ('hub': files gone from this folder; 'local': files gone from the hub), how many, of how many. */
  deletes?: { where: 'hub' | 'local'; count: number; of: number };
}

export interface ConflictInfo {
  /** The path the hub's version keeps. */
  path: string;
  /** The local conflict copy holding "mine". */
  copyPath: string;
  device: string;
  detectedAt: string;
  mine: { size: number; modified: string; hash: string };
  theirs: { size: number; modified: string; hash: string };
}

export interface ActivityEntry {
  at: string;
  path: string;
  direction: 'up' | 'down' | 'local-delete' | 'remote-delete' | 'conflict';
  outcome: 'ok' | 'failed' | 'skipped';
  detail?: string;
}

export interface EngineStatus {
  phase: EnginePhase;
  progress?: EngineProgress;
  /** Files waiting to sync (for the tray's "syncing (N)"). */
  pending: number;
  conflicts: ConflictInfo[];
  issues: EngineIssue[];
  lastSyncAt?: string;
  userId?: string;
}

export interface RoundSummary {
  uploaded: number;
  downloaded: number;
  deleted: number;
  conflicts: number;
  failed: number;
  converged: boolean;
}

export type Resolution = 'mine' | 'theirs' | 'both';

/** A content the hub kept of a path (it was replaced or deleted), as the hub's versions API gives it. */
export interface KeptVersion {
  id: string;
  hash: string;
  size: number;
  kept_at: string;
  reason: 'overwrite' | 'delete';
  /** Who replaced or deleted it (device, agent, openwebui, key label), where the hub records it. */
  origin?: string;
}

/** One row of "Deleted files": a path the hub keeps versions of but no longer holds, or a file in this computer's trash. */
export interface DeletedEntry {
  source: 'hub' | 'trash';
  /** hub: the version to restore; trash: its place in the trash. */
  id: string;
  path: string;
  deletedAt: string;
  size: number;
  /** hub: how many versions of the path are kept. */
  versions?: number;
  origin?: string;
}

/** What "Deleted files" shows; either half may fail on its own (the hub unreachable, say). */
export interface DeletedList {
  entries: DeletedEntry[];
  hubError?: string;
  trashError?: string;
  /** The hub listed only its most recent deleted paths. */
  truncated?: boolean;
}

/** History and trash (docs/SYNC-SPEC.md "Kept versions"), for the desktop app and the command line. */
export interface HistoryApi {
  listVersions(path: string): Promise<KeptVersion[]>;
  /** The first `maxBytes` of a kept version. */
  versionHead(path: string, versionId: string, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }>;
  /** Puts a kept version back on the hub; it reaches the folder like any hub change. */
  restoreVersion(path: string, versionId: string): Promise<{ path: string; hash: string; size: number }>;
  listDeleted(): Promise<DeletedList>;
  /** Puts a file from this computer's trash back at its path; a different file there goes to the trash first. */
  restoreFromTrash(id: string): Promise<{ path: string }>;
}

/** What a shell needs from a running engine. */
export interface SyncEngineApi {
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  syncNow(): Promise<RoundSummary>;
  /** After the mass-delete guard stopped a round: run one round that applies the deletes (the user confirmed). */
  confirmDeletes(): Promise<RoundSummary>;
  /** After the mass-delete guard stopped a round: run one round that brings the files back instead (the other side still has them). */
  restoreDeleted(): Promise<RoundSummary>;
  readonly history: HistoryApi;
  status(): EngineStatus;
  recentActivity(): ActivityEntry[];
  listConflicts(): Promise<ConflictInfo[]>;
  resolve(path: string, keep: Resolution): Promise<void>;
  on(event: 'status', listener: (s: EngineStatus) => void): () => void;
  on(event: 'activity', listener: (a: ActivityEntry) => void): () => void;
  on(event: 'conflict', listener: (c: ConflictInfo) => void): () => void;
}
