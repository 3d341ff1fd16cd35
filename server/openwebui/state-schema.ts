// The shape of the hub's per-user KB sync state (the design's "Sync State Model"): pure schemas
// and types, no I/O (state.ts reads and writes the file). snake_case on disk, as the design shows.
import { z } from 'zod';
import type { FailureRecord } from '../../shared/failure.ts';

export const FailureReasonSchema = z.enum([
  'unsupported_type',
  'processing_failed',
  'duplicate_content',
  'too_large',
  /** The workspace store refused a KB file (bad name, over the size limit or quota). */
  'workspace_refused',
  'error',
]);
export type FailureReason = z.infer<typeof FailureReasonSchema>;

/** A base: the hash the workspace and the KB last agreed on for one path. */
export const FileStateSchema = z.object({
  path: z.string(),
  hash: z.string(),
  size: z.number(),
  modified: z.string(),
  /** 'ralph': the hub uploaded it; 'openwebui': a user put it into the KB and the hub adopted it. */
  source: z.enum(['ralph', 'openwebui']),
  openwebui_file_id: z.string(),
  synced_at: z.string(),
});
export type FileState = z.infer<typeof FileStateSchema>;

/** An upload whose processing had not finished when the round ended: picked up next round. */
export const PendingSchema = z.object({
  hash: z.string(),
  openwebui_file_id: z.string(),
  uploaded_at: z.string(),
});
export type Pending = z.infer<typeof PendingSchema>;

/** Which way a failed transfer went. */
export const FailureSideSchema = z.enum(['to_openwebui', 'from_openwebui']);
export type FailureSide = z.infer<typeof FailureSideSchema>;

/**
 * A path that failed to sync: the record both pipelines keep (shared/failure.ts), plus the way
 * the transfer went. The KB always knows the content that failed, so `hash` is required here.
 */
export type Failure = FailureRecord<FailureReason> & { side: FailureSide; hash: string };

export const FailureSchema = z.object({
  /** Which way the failed transfer went; `hash` is the content of the side it came from. */
  side: FailureSideSchema.default('to_openwebui'),
  hash: z.string(),
  reason: FailureReasonSchema,
  message: z.string(),
  attempts: z.number().int().positive(),
  failed_at: z.string(),
  next_retry_at: z.string(),
}) satisfies z.ZodType<Failure>;

/**
 * A delete the mass-delete guard held back in the last round (docs/SYNC-SPEC.md invariant 10):
 * `delete_in_openwebui` (the workspace file is gone, the KB still has it), `delete_in_workspace`
 * (removed in the KB, the workspace still has it) or `remove_from_openwebui` (an ignore rule now
 * leaves the path out; `rule` says which). `hash` is the base the delete would act on.
 */
export const HeldDeleteSchema = z.object({
  action: z.enum(['delete_in_openwebui', 'delete_in_workspace', 'remove_from_openwebui']),
  hash: z.string(),
  reason: z.string(),
  rule: z.string().optional(),
  since: z.string(),
});
export type HeldDelete = z.infer<typeof HeldDeleteSchema>;

/** How the last round went: `GET .../status` shows it, the KB's description line says it. */
export const LastRoundSchema = z.object({
  direction: z.enum(['to_openwebui', 'from_openwebui', 'bidirectional']),
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number(),
  /** `ok`; `guarded`: it ran but the guard held deletes back; `failed`: it stopped (`error` says why). */
  outcome: z.enum(['ok', 'guarded', 'failed']),
  /** It changed something (in the KB, the workspace or the state). */
  changed: z.boolean(),
  error: z.string().optional(),
});
export type LastRound = z.infer<typeof LastRoundSchema>;

export const SyncStateSchema = z.object({
  version: z.literal(1),
  user_id: z.string(),
  knowledge_id: z.string().nullable(),
  last_sync: z.string().nullable(),
  files: z.record(z.string(), FileStateSchema),
  pending: z.record(z.string(), PendingSchema).default({}),
  failures: z.record(z.string(), FailureSchema).default({}),
  /** Deletes the guard held back in the last round; replaced by every round. */
  held: z.record(z.string(), HeldDeleteSchema).default({}),
  last_round: LastRoundSchema.nullable().default(null),
});
export type SyncState = z.infer<typeof SyncStateSchema>;

export function emptyState(userId: string): SyncState {
  return { version: 1, user_id: userId, knowledge_id: null, last_sync: null, files: {}, pending: {}, failures: {}, held: {}, last_round: null };
}
