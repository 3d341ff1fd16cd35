// What the client trash holds (trash.ts), for the desktop app's "Deleted files": one entry per
// kept file, and putting one back into the folder. A file's place in the trash is
// `<batch>/<its path in the folder>`; the id the app sees is that place, relative to the trash.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface TrashItem {
  /** `<batch>/<path>`, `/`-separated. */
  id: string;
  /** The path the file had in the folder. */
  path: string;
  /** When it went into the trash (the entry's change time: a rename or link sets it). */
  keptAt: string;
  size: number;
}

/** Every file in the trash, newest first. */
export async function listTrash(dir: string): Promise<TrashItem[]> {
  const out: TrashItem[] = [];
  const batches = await readdir(dir, { withFileTypes: true }).catch(() => []); // no trash yet: nothing kept
  for (const b of batches) if (b.isDirectory()) await walk(join(dir, b.name), [], b.name, out);
  return out.sort((a, b) => (a.keptAt < b.keptAt ? 1 : a.keptAt > b.keptAt ? -1 : a.id < b.id ? -1 : 1));
}

async function walk(abs: string, segments: string[], batch: string, out: TrashItem[]): Promise<void> {
  const names = await readdir(abs, { withFileTypes: true }).catch(() => []); // purged meanwhile
  const here = new Set(names.map((n) => n.name));
  for (const n of names) {
    const child = join(abs, n.name);
    if (n.isDirectory()) {
      await walk(child, [...segments, n.name], batch, out);
      continue;
    }
    if (!n.isFile()) continue;
    const st = await lstat(child).catch(() => undefined); // purged meanwhile
    if (!st) continue;
    // Trash of an older release kept a second file of one name as `<name>.<n>` beside the first.
    const legacy = /^(.+)\.[0-9]+$/.exec(n.name);
    const name = legacy && here.has(legacy[1]!) ? legacy[1]! : n.name;
    out.push({
      id: [batch, ...segments, n.name].join('/'),
      path: [...segments, name].join('/'),
      keptAt: st.ctime.toISOString(),
      size: st.size,
    });
  }
}
