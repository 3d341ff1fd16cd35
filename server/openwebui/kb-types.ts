// What a KB sync round reports, and what the status route shows per file (kb-sync.ts).
import type { Direction } from './plan.ts';
import type { FailureReason } from './state-schema.ts';

export interface KbSyncLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
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

/** 'ignored': the rules keep the file out of the KB (server/openwebui/exclude.ts); `rule` says which. */
export type FileSyncState = 'synced' | 'pending' | 'failed' | 'skipped' | 'ignored';

export interface FileStatus {
  path: string;
  state: FileSyncState;
  hash: string;
  openwebui_file_id?: string;
  reason?: string;
  /** For 'ignored': `default: node_modules/`, `.youlabignore: *.log`, `too large: over N bytes`. */
  rule?: string;
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
