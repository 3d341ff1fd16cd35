// The hub's deleted files: paths the version store keeps content of that the workspace no longer
// holds (a file deleted through the hub, or one whose last content was kept before a delete). The
// desktop app's "Deleted files" view lists them beside the client trash and restores one through
// the ordinary restore route.
import { locate } from './fs-paths.ts';
import type { StoreCore } from './store-core.ts';
import type { Version } from './versions.ts';

export interface DeletedPath {
  path: string;
  /** Kept versions of the path, newest first. */
  versions: Version[];
}

/** At most this many paths per answer, the most recently deleted first. */
export const MAX_DELETED_PATHS = 1000;

/**
 * Groups kept versions by path (newest first, as `all` comes) and keeps the paths `isLive` says
 * are gone, ordered by their newest version.
 */
export async function groupDeleted(
  all: readonly Version[],
  isLive: (path: string) => Promise<boolean>,
  limit = MAX_DELETED_PATHS,
): Promise<{ files: DeletedPath[]; truncated: boolean }> {
  const byPath = new Map<string, Version[]>();
  for (const v of all) {
    const list = byPath.get(v.path);
    if (list) list.push(v);
    else byPath.set(v.path, [v]);
  }
  const files: DeletedPath[] = [];
  for (const [path, versions] of byPath) {
    if (await isLive(path)) continue;
    if (files.length === limit) return { files, truncated: true };
    files.push({ path, versions });
  }
  return { files, truncated: false };
}

export async function deletedFiles(core: StoreCore, userId: string): Promise<{ files: DeletedPath[]; truncated: boolean }> {
  const s = await core.state(userId);
  const root = core.workspaceDir(userId);
  return groupDeleted(await s.versions.listAll(), async (path) => {
    try {
      return (await locate(root, path)).st?.isFile() === true;
    } catch {
      // a path that cannot be looked up any more (a parent became a file, say) is not live
      return false;
    }
  });
}
