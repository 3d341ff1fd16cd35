// Which knowledge base a user's round fills: the one the state names, else one found by name
// whose owner can be trusted, else a new one granted to that user only.
import type { OpenWebUIClient } from './client.ts';
import { OpenWebUIError } from './http.ts';
import type { SyncSummary } from './kb-types.ts';
import type { Knowledge } from './schemas.ts';
import type { SyncState } from './state-schema.ts';

export interface KnowledgeTarget {
  userId: string;
  /** `${prefix}-${userId}`. */
  name: string;
  /** Hub user id -> Open WebUI user id or email. Unmapped users are their own Open WebUI id. */
  userMap?: Readonly<Record<string, string>> | undefined;
}

export async function ensureKnowledge(
  client: OpenWebUIClient,
  target: KnowledgeTarget,
  state: SyncState,
  summary: SyncSummary,
): Promise<Knowledge> {
  const { userId, name } = target;
  if (state.knowledge_id) {
    const kb = await client.getKnowledge(state.knowledge_id);
    if (kb) return kb;
  }
  const owuiUser = await resolveOwuiUser(client, target);
  let kb = await client.findKnowledgeByName(name, (k) => trustedOwner(client, k, owuiUser));
  if (!kb) {
    kb = await client.createKnowledge(name, `YouLab workspace of ${userId} (kept in sync by the hub)`, owuiUser);
    summary.knowledge_created = true;
  }
  if (state.knowledge_id && state.knowledge_id !== kb.id) {
    // The KB the base describes is gone: its files are no evidence of anything any more.
    // Reset the base so the round merges (re-fills the KB) and never deletes from the workspace.
    summary.knowledge_recreated = true;
    for (const f of Object.values(state.files)) {
      if (f.source === 'ralph') await client.deleteFile(f.openwebui_file_id).catch(() => undefined); // a file already gone is what we wanted; others are orphans Open WebUI keeps
    }
    state.files = {};
    state.failures = {};
  }
  state.knowledge_id = kb.id;
  return kb;
}

/**
 * Whether a KB found by name may be adopted: the hub's own KBs are owned by the admin account
 * behind the service key; one the user made themselves is theirs anyway. Any other user could
 * have named a KB like this one: adopting it would hand them the workspace.
 */
async function trustedOwner(client: OpenWebUIClient, kb: Knowledge, owuiUserId: string): Promise<boolean> {
  if (!kb.user_id || kb.user_id === owuiUserId) return true;
  const owner = await client.getUser(kb.user_id);
  return owner?.role === 'admin';
}

async function resolveOwuiUser(client: OpenWebUIClient, target: KnowledgeTarget): Promise<string> {
  const mapped = target.userMap?.[target.userId];
  if (!mapped) return target.userId;
  if (mapped.includes('@')) {
    const u = await client.findUserByEmail(mapped);
    if (!u) throw new OpenWebUIError('not_found', `no Open WebUI user with email ${mapped}`);
    return u.id;
  }
  return mapped;
}
