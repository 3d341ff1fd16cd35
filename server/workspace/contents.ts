// The announced-content store (issue 14): a copy of every content the hub has announced (a
// listing, a feed entry, a write through the hub), one file per content hash in
// `<user>/.hub/contents/<hex>`, so that whatever the agent later does to the workspace file (an
// in-place overwrite, a rename, a delete) the hub still holds those bytes and keeps them as a
// version (agent-changes.ts). Hard links to the workspace file would not do: the agent may write
// in place, changing both names at once. So each content is a copy, a reflink where the
// filesystem supports it (btrfs, XFS, APFS: no extra blocks until one side changes; elsewhere
// Node falls back to a plain copy), deduplicated by hash. These files are the hub's own and never
// written in place, so a version may hard-link one. A content no path holds any more is removed by
// the pruner (its versions keep their own link to the bytes).
import { constants as fsConstants, type Stats } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hashStream } from './hash-cache.ts';

const HEX_RE = /^[0-9a-f]{64}$/;

function hexOf(hash: string): string {
  return hash.startsWith('sha256:') ? hash.slice(7) : hash;
}

function sameStat(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

export class ContentStore {
  /** Hex names present (loaded once; this instance adds to it as it copies). */
  private present: Promise<Set<string>> | undefined;

  constructor(readonly root: string) {}

  private names(): Promise<Set<string>> {
    this.present ??= (async () => {
      await mkdir(this.root, { recursive: true });
      return new Set((await readdir(this.root)).filter((n) => HEX_RE.test(n)));
    })();
    return this.present;
  }

  /** Where the copy of `hash` is (whether or not it exists). */
  fileOf(hash: string): string {
    return join(this.root, hexOf(hash));
  }

  /**
   * The copy of `hash` if this store holds one. Asks the disk: with a shared data volume another
   * instance may have made or pruned it since this one listed the folder.
   */
  async find(hash: string): Promise<string | undefined> {
    const names = await this.names();
    const hex = hexOf(hash);
    const st = await lstat(join(this.root, hex)).catch(() => undefined); // absent: no copy
    if (st?.isFile()) {
      names.add(hex);
      return join(this.root, hex);
    }
    names.delete(hex);
    return undefined;
  }

  /** Whether a copy of `hash` is held: from memory when this instance saw it, else from the disk. */
  async has(hash: string): Promise<boolean> {
    return (await this.names()).has(hexOf(hash)) || (await this.find(hash)) !== undefined;
  }

  private tmpName(): string {
    return join(this.root, `.${randomBytes(8).toString('hex')}.tmp`);
  }

  /** Takes a copy of a file nobody else writes (an upload's temp file) known to hash to `hash`. */
  async keepPrivate(src: string, hash: string): Promise<void> {
    const names = await this.names();
    const hex = hexOf(hash);
    if (names.has(hex) && (await this.find(hash))) return;
    const tmp = this.tmpName();
    try {
      await copyFile(src, tmp, fsConstants.COPYFILE_FICLONE);
      await rename(tmp, join(this.root, hex));
      names.add(hex);
    } finally {
      await unlink(tmp).catch(() => {}); // renamed into place already (the usual case)
    }
  }

  /**
   * Takes a copy of a workspace file someone else may be writing: copies it, and keeps the copy
   * only if the file held still meanwhile (same inode, size and mtime before and after); then the
   * copy's hash is the content's. Undefined when the file vanished or kept changing (whoever
   * changes it makes the watcher look again).
   */
  async snapshot(abs: string, attempts = 3): Promise<{ hash: string; st: Stats } | undefined> {
    const names = await this.names();
    for (let i = 0; i < attempts; i++) {
      const before = await lstat(abs).catch(() => undefined); // gone: nothing to copy
      if (!before?.isFile()) return undefined;
      const tmp = this.tmpName();
      try {
        try {
          await copyFile(abs, tmp, fsConstants.COPYFILE_FICLONE);
        } catch {
          // vanished or unreadable mid-copy: look again
          continue;
        }
        const after = await lstat(abs).catch(() => undefined); // gone: the copy is of a content nobody will list
        if (!after?.isFile()) return undefined;
        if (!sameStat(before, after)) continue;
        const hash = await hashStream(tmp);
        if (hash === undefined) return undefined;
        const hex = hexOf(hash);
        if (!names.has(hex)) {
          await rename(tmp, join(this.root, hex));
          names.add(hex);
        }
        return { hash, st: after };
      } finally {
        await unlink(tmp).catch(() => {}); // renamed into place, or never made
      }
    }
    return undefined;
  }

  /**
   * Removes copies of contents no path holds any more (`live`: the hashes the hub's view holds)
   * and older than `cutoffMs` (a write in flight has its copy before its path points to it).
   * Returns how many went.
   */
  async prune(live: ReadonlySet<string>, cutoffMs: number): Promise<number> {
    const names = await this.names();
    let removed = 0;
    for (const n of await readdir(this.root).catch(() => [] as string[])) { // no store yet: nothing to prune
      const abs = join(this.root, n);
      if (!HEX_RE.test(n)) {
        // a temp copy left by a crash
        const st = await lstat(abs).catch(() => undefined); // gone meanwhile
        if (st && st.mtimeMs < cutoffMs) await unlink(abs).catch(() => {}); // removed by someone else already
        continue;
      }
      if (live.has(`sha256:${n}`)) continue;
      const st = await lstat(abs).catch(() => undefined); // gone meanwhile: nothing to remove
      if (!st || st.mtimeMs >= cutoffMs) continue;
      await unlink(abs).catch(() => {}); // removed by another instance already
      names.delete(n);
      removed++;
    }
    return removed;
  }

  /**
   * Size and inode of the copies of `live` contents (for the version store's disk budget: a copy
   * no path holds goes at the next prune, so only the versions linked to it keep its bytes).
   */
  async usage(live: ReadonlySet<string>): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const n of await readdir(this.root).catch(() => [] as string[])) { // no store yet: nothing held
      if (!live.has(`sha256:${n}`)) continue;
      const st = await lstat(join(this.root, n)).catch(() => undefined); // gone meanwhile
      if (st?.isFile()) out.set(st.ino, st.size);
    }
    return out;
  }
}
