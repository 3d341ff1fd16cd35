// The workspace store's side of the agent writing straight into the folder: the agent watcher
// (agent-watcher.ts) and verification walks (verify-walk.ts) hand over what changed, and the
// store records and announces it, or recognises it as its own.
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkPath, pathKey } from '../../shared/paths.ts';
import { statKey } from './hash-cache.ts';
import { entry, type StoreCore } from './store-core.ts';

export class AgentChanges {
  constructor(private readonly core: StoreCore) {}

  /**
   * Records a change another process made in the workspace (called by the watcher once the
   * file is stable). The hub's own writes are recognised by their hash and skipped. Agent
   * overwrites cannot be versioned: the old bytes are gone by the time the hub hears of them.
   */
  async recordExternal(userId: string, relOnDisk: string, kind: 'upsert' | 'delete'): Promise<void> {
    const core = this.core;
    const path = pathKey(relOnDisk);
    if (!checkPath(path).ok) {
      core.log.warn({ userId, reason: checkPath(path) }, 'agent wrote a file with an invalid name; not synced');
      return;
    }
    const s = await core.state(userId);
    const abs = join(core.workspaceDir(userId), relOnDisk);
    const shared = core.opts.sharedVolume === true;
    await core.locks.run(userId, async () => {
      const st = await lstat(abs).catch(() => undefined); // gone (a delete) or unreadable: treated as absent
      if (kind === 'delete') {
        if (st) return; // it came back; the add event reports it
        if (!shared && s.known.get(path) === null) return;
        s.known.set(path, null);
        s.recorded.delete(path);
        const gone = s.cache.sizeOf(path);
        s.cache.delete(path);
        // Keep the usage count without walking the workspace on the next write (10k files: ~0.5 s).
        s.usage = s.usage !== undefined && gone !== undefined ? Math.max(0, s.usage - gone) : undefined;
        s.generation++;
        await core.emit(userId, { path, hash: null, source: 'agent' }, shared);
        return;
      }
      if (!st?.isFile()) return;
      const before = s.cache.sizeOf(path);
      const r = await s.cache.hashOf(path, abs);
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
      await core.emit(userId, { ...entry(path, r.hash, r.st), source: 'agent' }, shared);
    });
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
