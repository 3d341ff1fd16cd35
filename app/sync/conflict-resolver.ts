// The conflicts the state records (state.ts `conflicts`): how the shell sees them, which are
// settled, and settling one at the user's word. A conflict copy keeps "mine" beside the path the
// hub's version keeps (docs/SYNC-SPEC.md, conflict copy; names: shared/conflict-name.ts).
import { lstat, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { pathKey } from '../../shared/paths.ts';
import type { ConflictInfo, Resolution } from '../engine-api/types.ts';
import type { ConflictRecord, StateStore, SyncState } from './state.ts';
import type { Trash } from './trash.ts';

/** A recorded conflict as the engine's API shows it. */
export function conflictInfo(c: ConflictRecord): ConflictInfo {
  return { path: c.path, copyPath: c.copy_path, device: c.device, detectedAt: c.detected_at, mine: c.mine, theirs: c.theirs };
}

export class ConflictResolver {
  constructor(
    private readonly folder: string,
    private readonly trash: Trash,
    private readonly store: StateStore,
  ) {}

  /** A conflict whose copy the user removed or renamed is settled. */
  async prune(state: SyncState): Promise<void> {
    const keep: ConflictRecord[] = [];
    for (const c of state.conflicts) {
      if (await exists(join(this.folder, c.copy_path))) keep.push(c);
    }
    state.conflicts = keep;
  }

  /**
   * Settle a conflict with local file operations; the next round carries them to the hub with
   * the usual preconditions. mine: the copy's bytes replace the path (the hub's version stays in
   * its version store, the local one in the trash); theirs: the copy goes to the trash; both: keep both.
   */
  async resolve(state: SyncState, path: string, keep: Resolution): Promise<void> {
    const key = pathKey(path);
    const c = state.conflicts.find((x) => x.path === key || x.copy_path === key);
    if (!c) throw new Error(`no conflict recorded for ${path} (see: youlab-sync conflicts)`);
    const copyAbs = join(this.folder, c.copy_path);
    const pathAbs = join(this.folder, c.path);
    if (keep === 'mine') {
      if (await exists(pathAbs)) await this.trash.keepCopy(pathAbs, c.path);
      await rename(copyAbs, pathAbs);
    } else if (keep === 'theirs') {
      await this.trash.moveIn(copyAbs, c.copy_path);
    }
    state.conflicts = state.conflicts.filter((x) => x !== c);
    await this.store.save(state);
  }
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}
