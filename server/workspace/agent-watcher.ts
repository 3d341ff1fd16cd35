// Notices files another process (Ralph's agent) writes straight into `<data>/<user>/workspace`
// and feeds them to the store, which announces them in the change feed. One chokidar watcher
// on the data dir covers users created later. Files are reported once their size/mtime held
// still for ~150 ms, so a slowly written file is not recorded half-written.
import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { UserIdSchema } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import type { FsWorkspaceStore } from './fs-store.ts';

export interface AgentWatcher {
  ready: Promise<void>;
  close(): Promise<void>;
}

/** `<user>/workspace/<rel>` -> {user, rel}; anything else (hub state, keys) -> undefined. */
export function classify(dataDir: string, abs: string): { user: string; rel: string | undefined } | 'outside' | 'ignore' {
  const rel = relative(dataDir, abs);
  if (rel === '') return 'outside';
  if (rel.startsWith('..')) return 'ignore';
  const parts = rel.split(sep);
  const user = parts[0]!;
  if (!UserIdSchema.safeParse(user).success) return 'ignore';
  if (parts.length === 1) return { user, rel: undefined };
  if (parts[1] !== 'workspace') return 'ignore';
  return { user, rel: parts.length > 2 ? parts.slice(2).join('/') : undefined };
}

export function watchAgentWrites(store: FsWorkspaceStore, dataDir: string, log: Logger, stabilityMs = 150, settleMs = 300): AgentWatcher {
  const watcher: FSWatcher = watch(dataDir, {
    ignoreInitial: true,
    followSymlinks: false,
    awaitWriteFinish: { stabilityThreshold: stabilityMs, pollInterval: 50 },
    ignored: (p: string) => classify(dataDir, p) === 'ignore',
  });
  const handle = (kind: 'upsert' | 'delete') => (abs: string) => {
    const c = classify(dataDir, abs);
    if (typeof c !== 'object' || !c.rel) return;
    store.recordExternal(c.user, c.rel, kind).catch((err: unknown) => log.warn({ err, user: c.user }, 'agent change not recorded'));
  };
  watcher.on('add', handle('upsert'));
  watcher.on('change', handle('upsert'));
  watcher.on('unlink', handle('delete'));
  watcher.on('error', (err) => log.warn({ err }, 'workspace watcher error'));

  // chokidar can miss files created in a folder while it is still setting up that folder's
  // watch (mkdir -p a/b && write a/b/f). So a new folder is walked once things settle; the
  // store skips whatever it already recorded (same hash), so nothing is announced twice.
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const dirs = [...pending].sort();
      pending.clear();
      const tops = dirs.filter((d, i) => !dirs.slice(0, i).some((p) => d.startsWith(p + sep)));
      for (const dir of tops) {
        rescan(dir).catch((err: unknown) => log.warn({ err }, 'rescan of a new folder failed'));
      }
    }, settleMs);
    timer.unref();
  };
  const rescan = async (dir: string): Promise<void> => {
    const now = Date.now();
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
      if (!e.isFile()) continue;
      const abs = join(e.parentPath, e.name);
      const c = classify(dataDir, abs);
      if (typeof c !== 'object' || !c.rel) continue;
      const st = await lstat(abs).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (now - st.mtimeMs < stabilityMs * 2) {
        // Possibly still being written: look again later rather than hash half a file.
        pending.add(dirname(abs));
        schedule();
        continue;
      }
      await store.recordExternal(c.user, c.rel, 'upsert');
    }
  };
  watcher.on('addDir', (abs: string) => {
    const c = classify(dataDir, abs);
    if (typeof c !== 'object') return;
    pending.add(abs);
    schedule();
  });

  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
