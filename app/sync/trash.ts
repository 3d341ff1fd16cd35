// Client trash (docs/SYNC-SPEC.md invariant 1): local deletes and overwrites keep the old bytes
// in `<state-dir>/trash/<stamp>/<path>` first, so nothing the folder held is lost to a sync
// decision.
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const DAY = 86_400_000;

export class Trash {
  private batch: string | undefined;

  constructor(readonly dir: string) {}

  /** `<batch>/<rel>`, or `<batch>~<n>/<rel>` when that name is taken: a kept file's path in the trash is always its path in the folder. */
  private slot(rel: string, n: number): string {
    // One folder per engine session keeps related deletes together and names never collide.
    this.batch ??= `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    return join(this.dir, n === 0 ? this.batch : `${this.batch}~${n}`, rel);
  }

  /** Move a file into the trash (the file leaves the folder). */
  async moveIn(absFile: string, rel: string): Promise<string> {
    const dest = await this.freeSlot(rel);
    try {
      await rename(absFile, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      await copyFile(absFile, dest);
      await unlink(absFile);
    }
    return dest;
  }

  /** Keep a copy of a file that is about to be replaced (the file stays in place). */
  async keepCopy(absFile: string, rel: string): Promise<string> {
    const dest = await this.freeSlot(rel);
    try {
      // A hard link costs nothing, and the atomic rename that replaces the file leaves the old inode here.
      await link(absFile, dest);
    } catch {
      await copyFile(absFile, dest);
    }
    return dest;
  }

  private async freeSlot(rel: string): Promise<string> {
    for (let n = 0; ; n++) {
      const dest = this.slot(rel, n);
      if (await exists(dest)) continue;
      try {
        await mkdir(dirname(dest), { recursive: true });
        return dest;
      } catch (e) {
        // A file of this batch holds a parent's name (a file kept, then a folder of that name): next batch.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
      }
    }
  }

  /** Drop batches older than the retention. */
  async purge(retentionDays = 30, now = Date.now()): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      // no trash yet: nothing to purge
      return;
    }
    for (const n of names) {
      const p = join(this.dir, n);
      const st = await stat(p).catch(() => undefined); // gone meanwhile: nothing to purge
      if (st && now - st.mtimeMs > retentionDays * DAY) await rm(p, { recursive: true, force: true });
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
