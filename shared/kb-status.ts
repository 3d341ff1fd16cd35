// The hub's answer to `GET /users/{id}/workspace/status` (the knowledge-base leg, per path) as
// the clients read it: the desktop app's "Knowledge base" section and `youlab-sync kb-status`.
// Tolerant where older hubs say less (no counts, no paging, `skipped` instead of `ignored`).
// The schemas are here; what the pages also need (states, counts, advice) is in kb-advice.ts,
// which has no zod in it.
import { z } from 'zod';

import { KB_FILE_STATES } from './kb-advice.ts';

export { KB_FILE_STATES, type KbFileState } from './kb-advice.ts';

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

