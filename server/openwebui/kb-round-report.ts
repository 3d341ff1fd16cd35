// What a round leaves behind for people to see: the deletes the guard held (kept in the state so
// `GET .../status` can show them and `confirm_deletes` can let them through), and the hub's line
// in the KB's description in Open WebUI (kb-description.ts).
import type { OpenWebUIClient } from './client.ts';
import { descriptionLine, hubLineOf, withHubLine, withoutTime } from './kb-description.ts';
import { openWebUIReason } from './kb-status.ts';
import type { KbSyncLogger } from './kb-types.ts';
import type { Step } from './plan.ts';
import type { Knowledge } from './schemas.ts';
import type { HeldDelete, SyncState } from './state-schema.ts';

/** The held deletes after a round whose guard held `guarded` back (`since` kept for the same delete). */
export function heldDeletes(guarded: readonly Step[], guard: string | undefined, state: SyncState, now: Date): Record<string, HeldDelete> {
  const out: Record<string, HeldDelete> = {};
  for (const s of guarded) {
    if (s.kind !== 'delete-remote' && s.kind !== 'delete-local') continue;
    const hash = s.kind === 'delete-local' ? s.baseHash : state.files[s.path]?.hash;
    if (hash === undefined) continue;
    const action: HeldDelete['action'] =
      s.kind === 'delete-local' ? 'delete_in_workspace' : s.excluded !== undefined ? 'remove_from_openwebui' : 'delete_in_openwebui';
    const before = state.held[s.path];
    const since = before && before.action === action && before.hash === hash ? before.since : now.toISOString();
    out[s.path] = {
      action,
      hash,
      reason: guard ?? 'held by the mass-delete guard',
      ...(s.kind === 'delete-remote' && s.excluded !== undefined ? { rule: s.excluded } : {}),
      since,
    };
  }
  return out;
}

/** The deletes a user confirmed: every delete held by the last round, at the base it was held at. */
export function confirmedDeletes(state: SyncState): Map<string, string> {
  return new Map(Object.entries(state.held).map(([path, h]) => [path, h.hash]));
}

/** The line the KB's description should carry after this round. */
export function lineFor(state: SyncState, at: Date): string {
  const failed = Object.entries(state.failures)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, f]) => ({ path, reason: f.reason, message: openWebUIReason(f.message) }));
  return descriptionLine({
    files: Object.keys(state.files).length,
    at,
    failed,
    processing: Object.keys(state.pending).length,
    held: Object.keys(state.held).length,
  });
}

/**
 * Keep the hub's line of the KB's description current: written after a round that changed
 * something, or when the line (its time aside) is not what it should be (missing, edited, or
 * from before a restart). The description is read again just before it is written, so what the
 * user typed while the round ran stays. A failed write is logged and left to the next round: the
 * description is a view, never a reason to stop syncing.
 */
export async function updateDescription(
  client: OpenWebUIClient,
  kb: Knowledge,
  line: string,
  changed: boolean,
  logger?: KbSyncLogger,
): Promise<boolean> {
  if (!changed && withoutTime(hubLineOf(kb.description)) === withoutTime(line)) return false;
  try {
    if (!(await client.describesKnowledge())) return false; // before 0.6.42 the update would empty the KB (client.ts)
    const now = (await client.getKnowledge(kb.id)) ?? kb;
    // A record that inlines its files keeps them in the form the update overwrites (whatever the
    // version says: builds that claim 0.6.42+ without its routes exist).
    if (Array.isArray(now.files)) return false;
    await client.updateKnowledgeDescription(now, withHubLine(now.description, line));
    return true;
  } catch (e) {
    logger?.warn({ knowledge: kb.id, err: String(e) }, 'kb description not updated; the next round tries again');
    return false;
  }
}
