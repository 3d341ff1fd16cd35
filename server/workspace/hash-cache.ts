// Per-user hash cache keyed by size/mtime/inode: a listing re-hashes only files that changed.
// Hashing is torn-read safe: the file is re-stat'ed after hashing and hashed again if it moved.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';
import { HASH_PREFIX } from '../../shared/hash.ts';

type Entry = [size: number, mtimeMs: number, ino: number, hash: string];

export function statKey(st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): string {
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

function sameStat(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

export class HashCache {
  private entries = new Map<string, Entry>();
  private loaded = false;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly tmpDir: string,
  ) {}

  async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { version?: number; entries?: Record<string, Entry> };
      if (data.version === 1 && data.entries) {
        for (const [p, e] of Object.entries(data.entries)) {
          if (Array.isArray(e) && e.length === 4) this.entries.set(p, e);
        }
      }
    } catch {
      /* absent or corrupt: start empty, everything is re-hashed once */
    }
  }

  get(path: string, st: Stats): string | undefined {
    const e = this.entries.get(path);
    if (e && e[0] === st.size && e[1] === st.mtimeMs && e[2] === st.ino) return e[3];
    return undefined;
  }

  set(path: string, st: Stats, hash: string): void {
    this.entries.set(path, [st.size, st.mtimeMs, st.ino, hash]);
    this.dirty = true;
  }

  /** Hash last recorded for `path` whatever its stat now (what the hub last listed or announced). */
  peek(path: string): string | undefined {
    return this.entries.get(path)?.[3];
  }

  /** Every hash the view holds (the contents whose copies must stay, contents.ts). */
  hashes(): string[] {
    return [...this.entries.values()].map((e) => e[3]);
  }

  /** Every path with an entry (a verification walk looks for the ones gone from disk). */
  paths(): string[] {
    return [...this.entries.keys()];
  }

  /** Size recorded for `path`, if any (for keeping the quota usage count without a walk). */
  sizeOf(path: string): number | undefined {
    return this.entries.get(path)?.[0];
  }

  delete(path: string): void {
    if (this.entries.delete(path)) this.dirty = true;
  }

  /** Drops entries of paths not in `live` (after a full listing). */
  retain(live: Set<string>): void {
    for (const p of this.entries.keys()) {
      if (!live.has(p)) {
        this.entries.delete(p);
        this.dirty = true;
      }
    }
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await writeJsonAtomic(this.file, { version: 1, entries: Object.fromEntries(this.entries) }, this.tmpDir);
  }

  /**
   * Hash of the file at `abs` (known by workspace path `path`), from the cache when its stat
   * matches. Returns undefined when the file vanished or stopped being a regular file.
   * `remember: false` hashes a changed file without recording it: the cache is also the hub's
   * view of what it listed or announced (verify-walk.ts, folder-marks.ts), and a file read or
   * checked before anyone announced its change must not enter that view unannounced.
   */
  async hashOf(path: string, abs: string, opts: { remember?: boolean; attempts?: number } = {}): Promise<{ hash: string; st: Stats } | undefined> {
    const attempts = opts.attempts ?? 5;
    let last: { hash: string; st: Stats } | undefined;
    for (let i = 0; i < attempts; i++) {
      const before = await lstat(abs).catch(() => undefined); // gone or unreadable: no file to hash
      if (!before || !before.isFile()) return undefined;
      const cached = this.get(path, before);
      if (cached) return { hash: cached, st: before };
      const hash = await hashStream(abs);
      if (hash === undefined) return undefined;
      const after = await lstat(abs).catch(() => undefined); // gone or unreadable: no file to hash
      if (!after || !after.isFile()) return undefined;
      last = { hash, st: after };
      if (sameStat(before, after)) {
        if (opts.remember !== false) this.set(path, after, hash);
        return last;
      }
      await new Promise((r) => setTimeout(r, 30 * (i + 1)));
    }
    // Still changing: report what we read but do not cache it; the next listing tries again.
    return last;
  }
}

export async function hashStream(abs: string): Promise<string | undefined> {
  const h = createHash('sha256');
  try {
    // O_NOFOLLOW: a symlink swapped in after the lstat is refused, never read through.
    const fh = await open(abs, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
    for await (const chunk of fh.createReadStream({ autoClose: true })) h.update(chunk as Buffer);
  } catch {
    // vanished, swapped for a symlink (O_NOFOLLOW) or unreadable: no hash, the caller treats it as absent
    return undefined;
  }
  return HASH_PREFIX + h.digest('hex');
}
