// Atomic file replacement (docs/SYNC-SPEC.md invariant 3): temp file + fsync + rename on one filesystem.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

/** Name of a temp file beside `target` (or inside `tmpDir` when given; it must be on the same filesystem). */
export function tempPathFor(target: string, tmpDir?: string): string {
  const dir = tmpDir ?? dirname(target);
  return join(dir, `.${basename(target).slice(0, 100)}.${randomBytes(6).toString('hex')}.youlab-tmp`);
}

/** Write bytes atomically, fsyncing the file and then its folder. */
export async function writeFileAtomic(target: string, data: Uint8Array | string, tmpDir?: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  if (tmpDir) await mkdir(tmpDir, { recursive: true });
  const tmp = tempPathFor(target, tmpDir);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {}); // the rename's error is the one to report; a leftover temp is removed by its owner's next start
    throw e;
  }
  await fsyncDir(dirname(target));
}

/** Flush a written file's bytes to disk (before it is renamed into place). Opened for writing: Windows flushes only through a writable handle. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable; not supported on every platform (Windows), so best effort.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

export async function writeJsonAtomic(target: string, value: unknown, tmpDir?: string): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n', tmpDir);
}
