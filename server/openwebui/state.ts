// The hub's per-user KB sync state (the design's "Sync State Model"), kept beside workspace/,
// never inside it, and replaced atomically so a crash leaves the old or the new file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';

export const STATE_FILE = 'openwebui-sync.json';

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

export const FailureSchema = z.object({
  /** Which way the failed transfer went; `hash` is the content of the side it came from. */
  side: z.enum(['to_openwebui', 'from_openwebui']).default('to_openwebui'),
  hash: z.string(),
  reason: FailureReasonSchema,
  message: z.string(),
  attempts: z.number().int().positive(),
  failed_at: z.string(),
  next_retry_at: z.string(),
});
export type Failure = z.infer<typeof FailureSchema>;

export const SyncStateSchema = z.object({
  version: z.literal(1),
  user_id: z.string(),
  knowledge_id: z.string().nullable(),
  last_sync: z.string().nullable(),
  files: z.record(z.string(), FileStateSchema),
  pending: z.record(z.string(), PendingSchema).default({}),
  failures: z.record(z.string(), FailureSchema).default({}),
});
export type SyncState = z.infer<typeof SyncStateSchema>;

export function emptyState(userId: string): SyncState {
  return { version: 1, user_id: userId, knowledge_id: null, last_sync: null, files: {}, pending: {}, failures: {} };
}

/** A missing or unreadable state is a lost state: the round merges and never deletes. */
export async function loadState(dir: string, userId: string): Promise<SyncState> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch {
    return emptyState(userId);
  }
  try {
    const parsed = SyncStateSchema.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.user_id === userId) return parsed.data;
  } catch {
    /* corrupt: treated as lost */
  }
  return emptyState(userId);
}

export async function saveState(dir: string, state: SyncState): Promise<void> {
  await writeJsonAtomic(join(dir, STATE_FILE), state);
}
