// History and trash (docs/SYNC-SPEC.md "Kept versions"): the hub's kept versions of a path, the
// hub's deleted files beside this computer's trash, and putting either back. A hub version goes
// back through the hub (an ordinary write, source `restore`) and reaches the folder with the next
// round; a trash file goes back into the folder and reaches the hub with the next round.
import { randomBytes } from 'node:crypto';
import { copyFile, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hashFile } from '../../shared/node/hash.ts';
import { checkPath, pathKey } from '../../shared/paths.ts';
import type { DeletedEntry, DeletedList, HistoryApi, KeptVersion } from '../engine-api/types.ts';
import type { HubClient } from './hub-client.ts';
import { toRoundError } from './round-context.ts';
import { TEMP_SUFFIX } from './scanner.ts';
import type { Trash } from './trash.ts';
import { listTrash } from './trash-list.ts';

export interface HistoryDeps {
  hub: HubClient;
  trash: Trash;
  folder: string;
  /** Resolves once the hub client knows whose workspace it reaches (GET /me). */
  ensureUser(): Promise<void>;
  /** A restore happened: a running engine syncs it now. */
  restored(): void;
}

export class EngineHistory implements HistoryApi {
  constructor(private readonly d: HistoryDeps) {}

  private async hubCall<T>(call: () => Promise<T>): Promise<T> {
    await this.d.ensureUser();
    return call().catch((e: unknown) => {
      throw toRoundError(e);
    });
  }

  /** Versions the hub kept of a path (replaced or deleted content), newest first. */
  listVersions(path: string): Promise<KeptVersion[]> {
    return this.hubCall(() => this.d.hub.versions(pathKey(path)));
  }

  versionHead(path: string, versionId: string, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
    return this.hubCall(() => this.d.hub.versionHead(pathKey(path), versionId, maxBytes));
  }

  /**
   * Puts a kept version back on the hub. It reaches this folder (and every other replica) like
   * any hub change: the next round downloads it, keeping the replaced local bytes in the trash.
   */
  async restoreVersion(path: string, versionId: string): Promise<{ path: string; hash: string; size: number }> {
    const r = await this.hubCall(() => this.d.hub.restore(pathKey(path), versionId));
    this.d.restored();
    return { path: r.path, hash: r.hash, size: r.size };
  }

  /** The hub's deleted files and this computer's trash in one list, newest first; each half may fail alone. */
  async listDeleted(): Promise<DeletedList> {
    const [hub, trash] = await Promise.allSettled([this.hubCall(() => this.d.hub.deleted()), listTrash(this.d.trash.dir)]);
    const entries: DeletedEntry[] = [];
    const out: DeletedList = { entries };
    if (hub.status === 'fulfilled') {
      for (const f of hub.value.files) {
        const v = f.versions[0];
        if (!v) continue;
        entries.push({
          source: 'hub',
          id: v.id,
          path: f.path,
          deletedAt: v.kept_at,
          size: v.size,
          versions: f.versions.length,
          ...(v.origin ? { origin: v.origin } : {}),
        });
      }
      if (hub.value.truncated) out.truncated = true;
    } else out.hubError = errorText(hub.reason);
    if (trash.status === 'fulfilled') {
      for (const t of trash.value) entries.push({ source: 'trash', id: t.id, path: t.path, deletedAt: t.keptAt, size: t.size });
    } else out.trashError = errorText(trash.reason);
    entries.sort((a, b) => (a.deletedAt < b.deletedAt ? 1 : a.deletedAt > b.deletedAt ? -1 : 0));
    return out;
  }

  /**
   * Puts a trash file back at its path in the folder (temp + rename, never half a file). A
   * different file at that path goes to the trash first, so nothing is lost; the next round
   * uploads the restored bytes as a local change.
   */
  async restoreFromTrash(id: string): Promise<{ path: string }> {
    const item = (await listTrash(this.d.trash.dir)).find((t) => t.id === id);
    if (!item) throw new Error('this file is no longer in the trash (restored or purged already)');
    const check = checkPath(item.path);
    if (!check.ok) throw new Error(`cannot restore ${item.path}: ${check.reason}`);
    const from = join(this.d.trash.dir, ...id.split('/'));
    const target = join(this.d.folder, ...item.path.split('/'));
    const current = await lstat(target).catch(() => undefined); // nothing there: a plain restore
    if (current && !current.isFile()) throw new Error(`cannot restore ${item.path}: a folder or link has that name now; move it away first`);
    if (current && (await hashFile(target)) !== (await hashFile(from))) await this.d.trash.keepCopy(target, item.path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      await copyFile(from, tmp);
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => {}); // the copy never completed; a leftover temp is removed by the next round
      throw e;
    }
    await unlink(from);
    this.d.restored();
    return { path: item.path };
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
