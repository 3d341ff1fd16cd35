// Keeping what a write or delete through the hub replaces, when the agent may be writing the same
// file in place at that very moment (issue 14). Two rules:
// - the version of the replaced content is taken from the hub's copy of it (contents.ts), not by
//   linking the workspace file: the agent writing in place into a linked inode would change the
//   version too;
// - the replaced inode is held (a hard link in the hub's tmp folder) across the rename or unlink:
//   if its size or mtime moved after the hub checked it, the agent wrote into it in between, and
//   that content, which the rename is about to take off the path, is kept as a version as well.
import type { Stats } from 'node:fs';
import { link, lstat, unlink } from 'node:fs/promises';
import { tempPathFor } from '../../shared/node/atomic-fs.ts';
import type { StoreCore, UserState } from './store-core.ts';
import type { Version } from './versions.ts';

export interface Replaced {
  path: string;
  abs: string;
  cur: { hash: string; st: Stats };
  reason: Version['reason'];
  origin: string | undefined;
}

/** Keeps the replaced content as a version, from the hub's copy when it has one (else the file itself). */
export async function keepReplaced(s: UserState, r: Replaced): Promise<void> {
  const blob = await s.contents.find(r.cur.hash);
  await s.versions.keep({ path: r.path, abs: blob ?? r.abs, hash: r.cur.hash, size: r.cur.st.size, reason: r.reason, origin: r.origin });
}

/** A hard link to the inode about to be replaced (undefined where links are not possible). */
export async function holdReplaced(core: StoreCore, userId: string, abs: string): Promise<string | undefined> {
  const hold = tempPathFor('held', core.tmpDir(userId));
  try {
    await link(abs, hold);
    return hold;
  } catch {
    // no hard links here (or the file is gone already): the late-write check is skipped
    return undefined;
  }
}

/**
 * After the rename or unlink: if the held inode changed since the hub checked it, the agent wrote
 * into it meanwhile; that content is copied and kept as a version (origin `agent`). The hold goes.
 */
export async function releaseHeld(core: StoreCore, s: UserState, userId: string, hold: string | undefined, r: Replaced): Promise<void> {
  if (!hold) return;
  try {
    const st = await lstat(hold).catch(() => undefined); // removed by a crash clean-up: nothing to check
    if (!st || (st.size === r.cur.st.size && st.mtimeMs === r.cur.st.mtimeMs)) return;
    const snap = await s.contents.snapshot(hold);
    if (!snap || snap.hash === r.cur.hash) return;
    core.log.info({ userId }, 'the agent wrote into a file as the hub replaced it; its content is kept as a version');
    const blob = await s.contents.find(snap.hash);
    await s.versions.keep({ path: r.path, abs: blob ?? hold, hash: snap.hash, size: snap.st.size, reason: 'overwrite', origin: 'agent' });
  } finally {
    await unlink(hold).catch(() => {}); // already gone: nothing to release
  }
}
