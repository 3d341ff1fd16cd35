// Workspace folders mirrored as KB folders (0.9.6+), so the web UI shows the workspace's tree.
// Best effort: without a folder a file goes to the KB's root, which changes nothing for sync (the
// path lives in the state and the upload metadata). Folder ids are kept per KB between rounds; a
// folder deleted in the web UI is forgotten when Open WebUI says so (`forget`).
import type { OpenWebUIClient } from './client.ts';
import { OpenWebUIError } from './http.ts';
import type { KbSyncLogger } from './kb-types.ts';

export class KbFolders {
  /**
   * Per KB: folder path -> its id, as a promise. Uploads run side by side, and two files of one
   * new folder must not create it twice: the second one waits for the first one's lookup.
   */
  private readonly cache = new Map<string, Map<string, Promise<string | undefined>>>();

  constructor(
    private readonly client: OpenWebUIClient,
    private readonly logger?: KbSyncLogger,
  ) {}

  /** The KB folder id for the parent folder of `path`, made level by level; undefined: the root. */
  async forFile(kbId: string, path: string): Promise<string | undefined> {
    const slash = path.lastIndexOf('/');
    if (slash < 0) return undefined;
    try {
      if (!(await this.client.supportsDirectories())) return undefined;
      return await this.folder(kbId, path.slice(0, slash));
    } catch (e) {
      if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) throw e;
      this.logger?.warn({ kb: kbId, path, err: String(e) }, 'KB folder not created; file goes to the root');
      return undefined;
    }
  }

  /** Open WebUI said a folder is gone (deleted in the web UI): look every folder of this KB up again. */
  forget(kbId: string): void {
    this.cache.delete(kbId);
  }

  private folder(kbId: string, folder: string): Promise<string | undefined> {
    let kb = this.cache.get(kbId);
    if (!kb) this.cache.set(kbId, (kb = new Map()));
    let id = kb.get(folder);
    if (!id) {
      id = this.lookUp(kbId, folder);
      kb.set(folder, id);
      // A failed lookup is not kept: the next file tries again.
      id.then(
        (v) => v === undefined && kb.get(folder) === id && kb.delete(folder),
        () => kb.get(folder) === id && kb.delete(folder),
      );
    }
    return id;
  }

  private async lookUp(kbId: string, folder: string): Promise<string | undefined> {
    const slash = folder.lastIndexOf('/');
    const parent = slash < 0 ? null : await this.folder(kbId, folder.slice(0, slash));
    if (slash >= 0 && parent === undefined) return undefined;
    const name = folder.slice(slash + 1);
    const find = async (): Promise<string | undefined> =>
      (await this.client.listDirectories(kbId, parent ?? null)).find((d) => d.name === name)?.id;
    // A create that loses a race (another hub, the web UI) answers 400: the folder exists, list again.
    return (await find()) ?? (await this.client.createDirectory(kbId, name, parent ?? null).then((d) => d.id, find));
  }
}
