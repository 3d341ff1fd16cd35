// The client's durable state (SYNC-SPEC "Terms": base per path, plus the hash cache), one JSON
// file written atomically in the state dir. Everything a round needs is derived from the folder,
// this base and the hub listing, so a crash or restart loses nothing.
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../shared/atomic-fs.ts';

export const STATE_FILE = 'state.json';

const CacheEntrySchema = z.object({
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  hash: z.string(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const SideInfoSchema = z.object({ size: z.number(), modified: z.string(), hash: z.string() });

const ConflictRecordSchema = z.object({
  path: z.string(),
  copyPath: z.string(),
  device: z.string(),
  detectedAt: z.string(),
  mine: SideInfoSchema,
  theirs: SideInfoSchema,
});
export type ConflictRecord = z.infer<typeof ConflictRecordSchema>;

/** A file the hub refused for a reason that retrying the same bytes cannot fix (413, 507, 400, 409). */
const FailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** The local hash that was refused: a changed file is tried again at once. */
  hash: z.string().optional(),
  at: z.string(),
  /** Epoch ms after which the same bytes are tried once more (long backoff). */
  retryAt: z.number(),
});
export type Failure = z.infer<typeof FailureSchema>;

const StateSchema = z.object({
  version: z.literal(1),
  /** NFC path -> hash both replicas last agreed on. */
  base: z.record(z.string(), z.string()),
  /** On-disk relative path -> what its bytes hashed to at that size/mtime/inode. */
  cache: z.record(z.string(), CacheEntrySchema),
  conflicts: z.array(ConflictRecordSchema),
  failures: z.record(z.string(), FailureSchema),
});
export type SyncState = z.infer<typeof StateSchema>;

export function emptyState(): SyncState {
  return { version: 1, base: {}, cache: {}, conflicts: [], failures: {} };
}

export interface LoadedState {
  state: SyncState;
  /** Why the file could not be used, when it existed but was unreadable (kept aside for inspection). */
  recovered?: string;
}

export class StateStore {
  private lastWritten: string | undefined;

  constructor(readonly stateDir: string) {}

  get file(): string {
    return join(this.stateDir, STATE_FILE);
  }

  /**
   * A missing or corrupt file starts empty. Empty state has no base, so the next round merges and
   * deletes nothing (SYNC-SPEC invariant 9); the corrupt file is kept aside, never silently reused.
   */
  async load(): Promise<LoadedState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState() };
      throw e;
    }
    try {
      const state = StateSchema.parse(JSON.parse(text));
      this.lastWritten = serialise(state);
      return { state };
    } catch (e) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, aside).catch(() => {});
      return { state: emptyState(), recovered: `state file was unreadable (${(e as Error).message.slice(0, 200)}); kept as ${aside}` };
    }
  }

  /** Writes only when something changed, so a no-change round writes no state (invariant 7). */
  async save(state: SyncState): Promise<boolean> {
    const text = serialise(state);
    if (text === this.lastWritten) return false;
    await writeJsonAtomic(this.file, JSON.parse(text), join(this.stateDir, 'tmp'));
    this.lastWritten = text;
    return true;
  }
}

function serialise(state: SyncState): string {
  // Sorted keys: the same state always serialises the same, so "changed" means changed.
  const sortObj = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({
    version: 1,
    base: sortObj(state.base),
    cache: sortObj(state.cache),
    conflicts: state.conflicts,
    failures: sortObj(state.failures),
  });
}
