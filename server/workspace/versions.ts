// Per-user version store beside the workspace: every content the hub replaces or deletes is
// kept here first (docs/SYNC-SPEC.md invariant 1), and so is every announced content the agent
// overwrites, renames or deletes straight in the folder (from the hub's copy of it, contents.ts).
// A version is a hard link to the old inode when the filesystem allows (the hub replaces files by
// rename, so the old inode is never modified; the hub's content copies are never written in
// place), else a copy. One folder per path (named by the hash of the path), one blob + one JSON
// each. Versions go after the retention period, and oldest first when the store outgrows its
// disk budget (`enforceBudget`).
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, link, lstat, mkdir, readdir, readFile, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';
import { HashSchema } from '../../shared/protocol.ts';

export const VersionSchema = z.object({
  id: z.string(),
  path: z.string(),
  hash: HashSchema,
  size: z.number().int().nonnegative(),
  kept_at: z.string(),
  reason: z.enum(['overwrite', 'delete']),
  /** Who overwrote or deleted this content: a device name, a key's label, `agent`, `openwebui` (absent in versions kept before origins were recorded). */
  origin: z.string().optional(),
});
export type Version = z.infer<typeof VersionSchema>;

const ID_RE = /^[0-9]{13}-[0-9a-f]{8}$/;

export class VersionStore {
  constructor(
    private readonly root: string,
    private readonly tmpDir: string,
  ) {}

  private dirFor(path: string): string {
    return join(this.root, createHash('sha256').update(path).digest('hex').slice(0, 40));
  }

  /** Keeps the file at `abs` (workspace path `path`) as a version. */
  async keep(args: { path: string; abs: string; hash: string; size: number; reason: Version['reason']; origin?: string | undefined }): Promise<Version> {
    const now = Date.now();
    const id = `${String(now).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
    const dir = this.dirFor(args.path);
    const blob = join(dir, `${id}.bin`);
    await mkdir(dir, { recursive: true });
    try {
      await link(args.abs, blob);
    } catch {
      await copyFile(args.abs, blob);
    }
    const v: Version = {
      id,
      path: args.path,
      hash: args.hash,
      size: args.size,
      kept_at: new Date(now).toISOString(),
      reason: args.reason,
      ...(args.origin !== undefined ? { origin: args.origin } : {}),
    };
    await writeJsonAtomic(join(dir, `${id}.json`), v, this.tmpDir);
    return v;
  }

  /** Versions of one path, newest first. */
  async list(path: string): Promise<Version[]> {
    const dir = this.dirFor(path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      // no versions kept for this path
      return [];
    }
    const out: Version[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      try {
        const v = VersionSchema.parse(JSON.parse(await readFile(join(dir, n), 'utf8')));
        if (v.path === path) out.push(v);
      } catch {
        /* a torn or foreign file is not a version */
      }
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** Every kept version of every path, newest first (the deleted-files view, deleted-files.ts). */
  async listAll(): Promise<Version[]> {
    let dirs: string[];
    try {
      dirs = await readdir(this.root);
    } catch {
      // no version store yet
      return [];
    }
    const out: Version[] = [];
    for (const d of dirs) {
      const dir = join(this.root, d);
      const names = await readdir(dir).catch(() => [] as string[]); // pruned meanwhile: nothing kept there
      for (const n of names) {
        if (!n.endsWith('.json')) continue;
        try {
          const v = VersionSchema.parse(JSON.parse(await readFile(join(dir, n), 'utf8')));
          if (this.dirFor(v.path) === dir) out.push(v);
        } catch {
          /* a torn or foreign file is not a version */
        }
      }
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** The blob of one version, or undefined. */
  async find(path: string, id: string): Promise<{ version: Version; blob: string } | undefined> {
    if (!ID_RE.test(id)) return undefined;
    const v = (await this.list(path)).find((x) => x.id === id);
    return v ? { version: v, blob: join(this.dirFor(path), `${id}.bin`) } : undefined;
  }

  /** Every version's files, oldest first, with the inode and size of its blob. */
  private async all(): Promise<{ dir: string; id: string; ino: number; size: number }[]> {
    const out: { dir: string; id: string; ino: number; size: number }[] = [];
    for (const d of await readdir(this.root).catch(() => [] as string[])) { // no version store yet: nothing kept
      const dir = join(this.root, d);
      for (const n of await readdir(dir).catch(() => [] as string[])) { // removed meanwhile: nothing in it
        const m = /^([0-9]{13}-[0-9a-f]{8})\.bin$/.exec(n);
        if (!m) continue;
        const st = await lstat(join(dir, n)).catch(() => undefined); // pruned meanwhile
        if (st?.isFile()) out.push({ dir, id: m[1]!, ino: st.ino, size: st.size });
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Drops the oldest versions until the bytes on disk (each inode counted once: the versions,
   * plus `held`, the other files the budget covers, inode -> size) fit `budgetBytes`. Returns
   * the versions dropped. 0 or less: no budget.
   */
  async enforceBudget(budgetBytes: number, held: ReadonlyMap<number, number>): Promise<Version[]> {
    if (budgetBytes <= 0) return [];
    const versions = await this.all();
    const links = new Map<number, { size: number; n: number }>();
    for (const [ino, size] of held) links.set(ino, { size, n: 1 });
    for (const v of versions) {
      const l = links.get(v.ino);
      if (l) l.n++;
      else links.set(v.ino, { size: v.size, n: 1 });
    }
    let total = 0;
    for (const l of links.values()) total += l.size;
    const dropped: Version[] = [];
    for (const v of versions) {
      if (total <= budgetBytes) break;
      const meta = await readFile(join(v.dir, `${v.id}.json`), 'utf8').then(
        (t) => VersionSchema.safeParse(parseOrNull(t)),
        () => undefined, // its record is gone: the blob is dropped all the same
      );
      await unlink(join(v.dir, `${v.id}.bin`)).catch(() => {}); // pruned by someone else already
      await unlink(join(v.dir, `${v.id}.json`)).catch(() => {}); // likewise
      await rmdir(v.dir).catch(() => {}); // other versions of the path are still in it
      const l = links.get(v.ino)!;
      if (--l.n === 0) total -= l.size;
      if (meta?.success) dropped.push(meta.data);
    }
    return dropped;
  }

  /** Removes versions kept before `cutoffMs`; returns how many went. */
  async prune(cutoffMs: number): Promise<number> {
    let removed = 0;
    let dirs: string[];
    try {
      dirs = await readdir(this.root);
    } catch {
      // no version store yet: nothing to prune
      return 0;
    }
    for (const d of dirs) {
      const dir = join(this.root, d);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        // removed meanwhile: nothing to prune
        continue;
      }
      let left = 0;
      for (const n of names) {
        const m = /^([0-9]{13})-[0-9a-f]{8}\.(json|bin)$/.exec(n);
        if (!m) continue;
        if (Number(m[1]) < cutoffMs) {
          await unlink(join(dir, n)).catch(() => {}); // pruned by someone else already; retried at the next prune otherwise
          if (m[2] === 'json') removed++;
        } else left++;
      }
      if (left === 0) await rm(dir, { recursive: true, force: true }).catch(() => {}); // a folder that is not empty after all stays until the next prune
    }
    return removed;
  }
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // a torn record: not a version, its blob is dropped all the same
    return null;
  }
}
