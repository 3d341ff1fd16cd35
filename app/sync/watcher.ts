// Folder watcher (chokidar): turns file events into "a round is needed", debounced, and drops
// events caused by the engine's own writes (compared by stat, not by time).
import { lstat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { TEMP_SUFFIX } from './scanner.ts';

type Snap = { size: number; mtimeMs: number; ino: number } | null;

export class FolderWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Paths the engine is writing right now (events for them are ours). */
  private readonly writing = new Set<string>();
  /** What the engine left at a path, so a later event that finds exactly that is ignored. */
  private readonly left = new Map<string, { snap: Snap; until: number }>();

  constructor(
    private readonly folder: string,
    private readonly ignore: IgnoreMatcher,
    private readonly debounceMs: number,
    private readonly onChange: () => void,
  ) {}

  async start(): Promise<void> {
    const w = watch(this.folder, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (p: string, stats?: { isDirectory(): boolean }) => {
        const rel = this.rel(p);
        if (!rel) return false;
        if (rel.endsWith(TEMP_SUFFIX)) return true;
        return this.ignore.ignores(rel, stats?.isDirectory() ?? false);
      },
    });
    w.on('all', (_event, p) => void this.event(p));
    w.on('error', () => {
      /* the interval rescan covers what the watcher misses */
    });
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    this.watcher = w;
  }

  private rel(p: string): string {
    return relative(this.folder, p).split(sep).join('/');
  }

  /** The engine is about to write or remove `rel`. */
  ownWrite(rel: string): void {
    this.writing.add(rel);
  }

  /** The round ended: remember what the engine left at each path it touched. */
  async settle(): Promise<void> {
    const until = Date.now() + 10_000;
    for (const rel of this.writing) {
      const st = await lstat(`${this.folder}/${rel}`).catch(() => undefined);
      this.left.set(rel, { snap: st ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null, until });
    }
    this.writing.clear();
    for (const [rel, v] of this.left) if (v.until < Date.now()) this.left.delete(rel);
  }

  private async event(p: string): Promise<void> {
    const rel = this.rel(p);
    if (this.writing.has(rel)) return;
    const mine = this.left.get(rel);
    if (mine && mine.until >= Date.now()) {
      const st = await lstat(p).catch(() => undefined);
      const now: Snap = st ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null;
      const same = now === null || mine.snap === null ? now === mine.snap : now.size === mine.snap.size && now.mtimeMs === mine.snap.mtimeMs && now.ino === mine.snap.ino;
      if (same) return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onChange, this.debounceMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
