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

/** What the engine left at a path after a round: the stat it recorded, null for "removed", undefined for "not known". */
export type LeftAt = (rel: string) => Snap | undefined;

export class FolderWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Paths the engine is writing right now: their events are held until the round ends. */
  private readonly writing = new Set<string>();
  /** Events that came for a path while the engine was writing it: ours, or the user's edit right after. */
  private readonly held = new Map<string, boolean>();
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

  /**
   * The round ended: remember what the engine left at each path it touched, as the engine
   * recorded it (`leftAt`, the stat it took of its own write) where it knows, else as found now.
   * Then the events held meanwhile are looked at again: one that finds something other than what
   * the engine left is a user's edit made right after the engine's write (a file saved the moment
   * it was downloaded), and asks for a round like any other.
   */
  async settle(leftAt?: LeftAt): Promise<void> {
    const until = Date.now() + 10_000;
    for (const rel of this.writing) {
      let snap = leftAt?.(rel);
      if (snap === undefined) {
        const st = await lstat(`${this.folder}/${rel}`).catch(() => undefined); // gone: the engine left nothing there
        snap = st ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null;
      }
      this.left.set(rel, { snap, until });
    }
    this.writing.clear();
    for (const [rel, v] of this.left) if (v.until < Date.now()) this.left.delete(rel);
    const held = [...this.held];
    this.held.clear();
    for (const [rel, isFile] of held) await this.event(`${this.folder}/${rel}`, isFile);
  }

  private async event(p: string, isFile: boolean): Promise<void> {
    const rel = this.rel(p);
    if (this.writing.has(rel)) {
      this.held.set(rel, isFile && this.held.get(rel) !== false);
      return;
    }
    const mine = this.left.get(rel);
    if (mine && mine.until >= Date.now()) {
      const st = await lstat(p).catch(() => undefined); // gone: compared as absent
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
