// The workspace store's side of the agent writing straight into the folder: the agent watcher
// (agent-watcher.ts) and verification walks (verify-walk.ts) hand over what changed, and the
// store records and announces it, or recognises it as its own.
// Nothing the hub announced is lost to the agent (issue 14): every announced content has a copy
// in the content store (contents.ts), taken when it was announced, so when the agent overwrites,
// renames or deletes it, that copy is kept as a version (origin `agent`) before the change is
// announced. The agent's new content is copied in turn as it is recorded.
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkPath, pathKey } from '../../shared/paths.ts';
import { statKey } from './hash-cache.ts';
import { entry, type StoreCore, type UserState } from './store-core.ts';
import type { Version } from './versions.ts';

/**
 * Keeps the announced content `prev` of `path`, which the agent replaced or removed, as a version
 * (from the hub's copy of it). Nothing to keep when the hub never announced a content there.
 */
export async function keepAgentReplaced(core: StoreCore, s: UserState, userId: string, path: string, prev: string | undefined, reason: Version['reason']): Promise<void> {
  if (prev === undefined) return;
  const blob = await s.contents.find(prev);
  if (!blob) {
    // Only a content announced before the hub kept copies (or one whose copy failed) lands here.
    core.log.warn({ userId, reason }, 'the agent replaced a content the hub holds no copy of; no version kept');
    return;
  }
  const st = await lstat(blob);
  await s.versions.keep({ path, abs: blob, hash: prev, size: st.size, reason, origin: 'agent' });
}

/**
 * The content the hub last announced at `path`: what it recorded under the lock (a listing
 * running beside the lock may have moved the hash cache on already), else the cache's view.
 */
function lastAnnounced(s: UserState, path: string): string | undefined {
  return s.known.get(path) ?? s.cache.peek(path);
}

export class AgentChanges {
  constructor(private readonly core: StoreCore) {}

  /**
   * Records a change another process made in the workspace (called by the watcher once the
   * file is stable, or by a walk). The hub's own writes are recognised by their hash and
   * skipped. `prev`: the hash the hub's view held for the path before a walk updated that view
   * (the watcher leaves it out: the view still holds it).
   */
  async recordExternal(userId: string, relOnDisk: string, kind: 'upsert' | 'delete', prev?: string): Promise<void> {
    const core = this.core;
    const path = pathKey(relOnDisk);
    if (!checkPath(path).ok) {
      core.log.warn({ userId, reason: checkPath(path) }, 'agent wrote a file with an invalid name; not synced');
      return;
    }
    const s = await core.state(userId);
    const abs = join(core.workspaceDir(userId), relOnDisk);
    await core.locks.run(userId, async () => {
      const st = await lstat(abs).catch(() => undefined); // gone (a delete) or unreadable: treated as absent
      if (kind === 'delete') {
        if (!st) await this.deleted(userId, s, path, prev);
        return; // else it came back; the add event reports it
      }
      if (st?.isFile()) await this.upserted(userId, s, path, abs, prev);
    });
  }

  private async deleted(userId: string, s: UserState, path: string, prevArg: string | undefined): Promise<void> {
    const core = this.core;
    const shared = core.opts.sharedVolume === true;
    if (!shared && s.known.get(path) === null) return;
    const prev = prevArg ?? lastAnnounced(s, path);
    s.known.set(path, null);
    s.recorded.delete(path);
    const gone = s.cache.sizeOf(path);
    s.cache.delete(path);
    // Keep the usage count without walking the workspace on the next write (10k files: ~0.5 s).
    s.usage = s.usage !== undefined && gone !== undefined ? Math.max(0, s.usage - gone) : undefined;
    s.generation++;
    // With a shared volume every instance sees the delete: the one whose feed entry counts keeps the version.
    if (await core.emit(userId, { path, hash: null, source: 'agent' }, shared)) await keepAgentReplaced(core, s, userId, path, prev, 'delete');
  }

  private async upserted(userId: string, s: UserState, path: string, abs: string, prevArg: string | undefined): Promise<void> {
    const core = this.core;
    const shared = core.opts.sharedVolume === true;
    const before = s.cache.sizeOf(path);
    const prev = prevArg ?? lastAnnounced(s, path);
    const r = await this.contentOf(s, path, abs);
    if (!r) return;
    // Seen now: later events for this very file (same inode, size, mtime) are dropped at once.
    s.recorded.set(path, statKey(r.st));
    // With a shared volume every instance's watcher sees the write: the shared feed keeps one.
    if (!shared && s.known.get(path) === r.hash) return;
    s.known.set(path, r.hash);
    // A path the cache did not know is counted as new; the next listing recounts exactly.
    s.usage = s.usage !== undefined ? Math.max(0, s.usage - (before ?? 0) + r.st.size) : undefined;
    s.generation++;
    core.scheduleSave(s);
    const announced = await core.emit(userId, { ...entry(path, r.hash, r.st), source: 'agent' }, shared);
    if (announced && prev !== r.hash) await keepAgentReplaced(core, s, userId, path, prev, 'overwrite');
  }

  /**
   * The file's hash, with a copy of its bytes in the content store: from the cache when its stat
   * matches and the copy exists, else by copying it (the copy's hash is the content's).
   */
  private async contentOf(s: UserState, path: string, abs: string): Promise<{ hash: string; st: Stats } | undefined> {
    const st = await lstat(abs).catch(() => undefined); // gone meanwhile: its unlink is recorded instead
    if (!st?.isFile()) return undefined;
    const cached = s.cache.get(path, st);
    if (cached !== undefined && (await s.contents.has(cached))) return { hash: cached, st };
    const snap = await s.contents.snapshot(abs);
    if (snap) s.cache.set(path, snap.st, snap.hash);
    return snap;
  }

  /**
   * True when the file at `relOnDisk` is exactly the one the hub itself last wrote or recorded
   * there (same inode, size and mtime as `st`): the watcher drops such events without taking the
   * lock. Anything else (an agent's write, even of the same bytes) answers false.
   */
  isOwnFile(userId: string, relOnDisk: string, st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): boolean {
    const key = this.core.loadedState(userId)?.recorded.get(pathKey(relOnDisk));
    return key !== undefined && key === statKey(st);
  }
}
