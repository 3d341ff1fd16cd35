// What a KB sync round reports, and what the status route shows per file (kb-sync.ts).
import { KB_FILE_STATES, type KbFileState } from '../../shared/kb-advice.ts';
import type { Direction } from './plan.ts';
import type { FailureReason, FailureSide, HeldDelete, LastRound } from './state-schema.ts';

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

/**
 * One state per path (docs/SYNC-SPEC.md "Hub and knowledge base"): `synced` (the KB holds this
 * content), `pending` (not in the KB yet: the next round sends it), `processing` (uploaded, Open
 * WebUI still works on it), `failed` (refused; `reason`, Open WebUI's `message`, `attempts`,
 * `next_retry_at`), `ignored` (the rules keep it out of the KB; `rule` says which), `held` (a
 * delete the mass-delete guard stopped; `action` and `reason` say which and why).
 */
export type FileSyncState = KbFileState;
export const FILE_SYNC_STATES: readonly FileSyncState[] = KB_FILE_STATES;

export interface FileStatus {
  path: string;
  state: FileSyncState;
  /** The workspace content; for a held delete of a file gone from the workspace, the base it was synced at. */
  hash: string;
  openwebui_file_id?: string;
  /** failed: the failure kind (`processing_failed` ...); ignored by type: `unsupported_type`; processing: `processing`. */
  reason?: string;
  /** For 'ignored': `default: node_modules/`, `.youlabignore: *.log`, `too large: over N bytes`, `type: .bin is not sent to the KB`. */
  rule?: string;
  /** failed: Open WebUI's (or the workspace's) own words; held: the guard's reason. */
  message?: string;
  /** failed: which way the transfer went. */
  side?: FailureSide;
  attempts?: number;
  failed_at?: string;
  next_retry_at?: string;
  /** held: the delete that waits for a confirmation. */
  action?: HeldDelete['action'];
  held_since?: string;
}

export type KbStatusCounts = Record<FileSyncState, number> & { total: number };

export interface UserKbStatus {
  knowledge_id: string | null;
  knowledge_name: string;
  last_sync: string | null;
  running: boolean;
  last_error?: string;
  /** The guard's reason when the last round held deletes back (confirm: `POST .../sync {confirm_deletes: true}`). */
  guard: string | null;
  last_round: LastRound | null;
  /** Every path, by state (the filter and the page do not change them). */
  counts: KbStatusCounts;
  /** Paths that pass the `state` filter. */
  total: number;
  offset: number;
  limit: number;
  /** The offset of the next page, or null on the last. */
  next_offset: number | null;
  files: FileStatus[];
}
