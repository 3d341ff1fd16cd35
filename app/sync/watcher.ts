// Folder watcher (chokidar): turns file events into "a round is needed", debounced, and drops
// events caused by the engine's own writes (compared by stat, not by time). It also tells which
// files changed, so the engine can run a quick round for just those (quick-round.ts); folder
// events or too many files ask for the full round instead.
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
  /** Files changed since the last callback; undefined once only a full round will do. */
  private changed: Set<string> | undefined = new Set();

  constructor(
    private readonly folder: string,
    private readonly ignore: IgnoreMatcher,
    private readonly debounceMs: number,
    private readonly onChange: (paths: ReadonlySet<string> | undefined) => void,
    /** Quiet time before a quick round for a few changed files. */
    private readonly quickMs = Math.min(debounceMs, 50),
    private readonly maxPaths = 64,
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
    w.on('all', (event, p) => void this.event(p, event === 'add' || event === 'change' || event === 'unlink'));
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

  private async event(p: string, isFile: boolean): Promise<void> {
    const rel = this.rel(p);
    if (this.writing.has(rel)) return;
    const mine = this.left.get(rel);
    if (mine && mine.until >= Date.now()) {
      const st = await lstat(p).catch(() => undefined);
      const now: Snap = st ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null;
      const same = now === null || mine.snap === null ? now === mine.snap : now.size === mine.snap.size && now.mtimeMs === mine.snap.mtimeMs && now.ino === mine.snap.ino;
      if (same) return;
    }
    if (!isFile) this.changed = undefined;
    else if (this.changed) {
      this.changed.add(rel);
      if (this.changed.size > this.maxPaths) this.changed = undefined;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.changed ? this.quickMs : this.debounceMs);
  }

  private fire(): void {
    const paths = this.changed;
    this.changed = new Set();
    this.onChange(paths);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
