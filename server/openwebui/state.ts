// The hub's per-user KB sync state file (shapes in state-schema.ts), kept beside workspace/,
// never inside it, and replaced atomically so a crash leaves the old or the new file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';
import { emptyState, SyncStateSchema, type SyncState } from './state-schema.ts';

export const STATE_FILE = 'openwebui-sync.json';

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
