// Per-user version store beside the workspace: every content the hub replaces or deletes is
// kept here first (docs/SYNC-SPEC.md invariant 1). A version is a hard link to the old inode
// when the filesystem allows (the hub replaces files by rename, so the old inode is never
// modified), else a copy. One folder per path (named by the hash of the path), one blob + one JSON each.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
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
  async keep(args: { path: string; abs: string; hash: string; size: number; reason: Version['reason'] }): Promise<Version> {
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
    const v: Version = { id, path: args.path, hash: args.hash, size: args.size, kept_at: new Date(now).toISOString(), reason: args.reason };
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
