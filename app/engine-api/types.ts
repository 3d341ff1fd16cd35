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

/** What a shell needs from a running engine. */
export interface SyncEngineApi {
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  syncNow(): Promise<RoundSummary>;
  /** After the mass-delete guard stopped a round: run one round that applies the deletes (the user confirmed). */
  confirmDeletes(): Promise<RoundSummary>;
  status(): EngineStatus;
  recentActivity(): ActivityEntry[];
  listConflicts(): Promise<ConflictInfo[]>;
  resolve(path: string, keep: Resolution): Promise<void>;
  on(event: 'status', listener: (s: EngineStatus) => void): () => void;
  on(event: 'activity', listener: (a: ActivityEntry) => void): () => void;
  on(event: 'conflict', listener: (c: ConflictInfo) => void): () => void;
}
