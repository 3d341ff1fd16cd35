// The hub's answer to `GET /users/{id}/workspace/status` (the knowledge-base leg, per path) as
// the clients read it: the desktop app's "Knowledge base" section and `youlab-sync kb-status`.
// Tolerant where older hubs say less (no counts, no paging, `skipped` instead of `ignored`).
import { z } from 'zod';

export const KB_FILE_STATES = ['synced', 'pending', 'processing', 'failed', 'ignored', 'held'] as const;
export type KbFileState = (typeof KB_FILE_STATES)[number];

export const KbFileStatusSchema = z.looseObject({
  path: z.string(),
  /** Older hubs: `skipped` for a type the KB does not take (now `ignored` with a rule). */
  state: z.enum([...KB_FILE_STATES, 'skipped']),
  hash: z.string().optional(),
  reason: z.string().optional(),
  rule: z.string().optional(),
  message: z.string().optional(),
  side: z.enum(['to_openwebui', 'from_openwebui']).optional(),
  attempts: z.number().optional(),
  failed_at: z.string().optional(),
  next_retry_at: z.string().optional(),
  action: z.enum(['delete_in_openwebui', 'delete_in_workspace', 'remove_from_openwebui']).optional(),
  held_since: z.string().optional(),
});
export type KbFileStatus = z.infer<typeof KbFileStatusSchema>;

export const KbLastRoundSchema = z.looseObject({
  direction: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number(),
  outcome: z.enum(['ok', 'guarded', 'failed']),
  changed: z.boolean(),
  error: z.string().optional(),
});
export type KbLastRound = z.infer<typeof KbLastRoundSchema>;

export const KbCountsSchema = z.object({
  total: z.number(),
  synced: z.number(),
  pending: z.number(),
  processing: z.number(),
  failed: z.number(),
  ignored: z.number(),
  held: z.number(),
});
export type KbCounts = z.infer<typeof KbCountsSchema>;

export const KbStatusSchema = z.looseObject({
  user_id: z.string(),
  openwebui: z.looseObject({
    configured: z.boolean(),
    reason: z.string().optional(),
    url: z.string().nullish(),
    reachable: z.boolean().optional(),
    version: z.string().nullish(),
  }),
  knowledge_id: z.string().nullable(),
  knowledge_name: z.string().optional(),
  last_sync: z.string().nullable(),
  running: z.boolean().optional(),
  last_error: z.string().optional(),
  guard: z.string().nullish(),
  last_round: KbLastRoundSchema.nullish(),
  counts: KbCountsSchema.optional(),
  total: z.number().optional(),
  offset: z.number().optional(),
  limit: z.number().optional(),
  next_offset: z.number().nullish(),
  files: z.array(KbFileStatusSchema),
});
export type KbStatus = z.infer<typeof KbStatusSchema>;

/** Counts of a status answer; an older hub without them is counted from its files. */
export function kbCounts(s: KbStatus): KbCounts {
  if (s.counts) return s.counts;
  const c: KbCounts = { total: s.files.length, synced: 0, pending: 0, processing: 0, failed: 0, ignored: 0, held: 0 };
  for (const f of s.files) c[f.state === 'skipped' ? 'ignored' : f.state]++;
  return c;
}

/** What the user can do about a failed or held file, one sentence (the app and the CLI say the same). */
export function kbWhatToDo(f: KbFileStatus): string {
  if (f.state === 'held') {
    return f.action === 'delete_in_workspace'
      ? 'It was removed from the knowledge base; confirm the deletes to remove it from the workspace too, or add it to the knowledge base again.'
      : 'Confirm the deletes if you meant to delete these files; otherwise put them back in the workspace (the hub keeps deleted versions).';
  }
  switch (f.reason) {
    case 'unsupported_type':
      return 'Open WebUI does not take this type of file. Save it as PDF, Markdown or text to make it searchable.';
    case 'processing_failed':
      return 'Open WebUI could not read text from this file (empty, scanned or damaged). Save it again with text in it; it is retried when it changes.';
    case 'duplicate_content':
      return 'The knowledge base already holds a file with the same text; nothing to do unless you change this one.';
    case 'too_large':
      return 'The file is over Open WebUI’s size limit. Make it smaller or split it.';
    case 'workspace_refused':
      return 'The workspace refused this file from Open WebUI (name, size or quota). Rename or shrink it in Open WebUI.';
    default:
      return 'It is tried again by itself; if it keeps failing, ask your administrator to look at the hub log.';
  }
}
