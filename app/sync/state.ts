// The client's durable state (docs/SYNC-SPEC.md "Terms": base per path, plus the hash cache), one
// JSON file written atomically in the state dir. Everything a round needs is derived from the
// folder, this base and the hub listing, so a crash or restart loses nothing.
//
// On disk and in memory the state has one shape, in the style of the hub's state files
// (snake_case keys, times as ISO strings; failures are the shared FailureRecord). Version 1 files
// (camelCase, epoch-ms retry times) are migrated when read (state-migrate.ts) and written back as
// version 2 by the next save.
//
// Cost on a no-change round: the state handed out by `load` is wrapped in a change tracker
// (state-tracking.ts), so `save` knows without serialising anything whether there is something to
// write.
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { FailureRecord } from '../../shared/failure.ts';
import { writeFileAtomic } from '../../shared/node/atomic-fs.ts';
import { isVersion1, migrateVersion1 } from './state-migrate.ts';
import { track } from './state-tracking.ts';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 2;

const CacheEntrySchema = z.object({
  size: z.number(),
  mtime_ms: z.number(),
  ino: z.number(),
  hash: z.string(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const SideInfoSchema = z.object({ size: z.number(), modified: z.string(), hash: z.string() });

const ConflictRecordSchema = z.object({
  path: z.string(),
  copy_path: z.string(),
  device: z.string(),
  detected_at: z.string(),
  mine: SideInfoSchema,
  theirs: SideInfoSchema,
});
export type ConflictRecord = z.infer<typeof ConflictRecordSchema>;

/**
 * A file the hub refused for a reason that retrying the same bytes cannot fix (413, 507, 400,
 * 409): the shared FailureRecord (shared/failure.ts). `hash` is the local hash that was refused,
 * so a changed file is tried again at once; the same bytes wait until `next_retry_at`.
 */
const FailureSchema = z.object({
  reason: z.string(),
  message: z.string(),
  hash: z.string().optional(),
  attempts: z.number().int().positive(),
  failed_at: z.string(),
  next_retry_at: z.string(),
}) satisfies z.ZodType<FailureRecord>;

const StateSchema = z.object({
  version: z.literal(STATE_VERSION),
  /** NFC path -> hash both replicas last agreed on. */
  base: z.record(z.string(), z.string()),
  /** On-disk relative path -> what its bytes hashed to at that size/mtime/inode. */
  cache: z.record(z.string(), CacheEntrySchema),
  conflicts: z.array(ConflictRecordSchema),
  failures: z.record(z.string(), FailureSchema),
  /**
   * The hub listing's cursor at which the hub held exactly `base` (clean-cursor.ts). Optional:
   * state files written before it existed load unchanged. Any change to `base` removes it (see
   * `track`).
   */
  clean_cursor: z.string().optional(),
  /**
   * Paths (listed by the hub or in base) that the ignore rules hid when `clean_cursor` was set:
   * the listing was only compared on paths the rules let through, so if one of these stops being
   * ignored the clean cursor says nothing about it and must not be used.
   */
  clean_hidden: z.array(z.string()).optional(),
});
export type SyncState = z.infer<typeof StateSchema>;

export function emptyState(): SyncState {
  return { version: STATE_VERSION, base: {}, cache: {}, conflicts: [], failures: {} };
}

export interface LoadedState {
  state: SyncState;
  /** Why the file could not be used, when it existed but was unreadable (kept aside for inspection). */
  recovered?: string;
}

/**
 * Validation of a state file (a version 1 file is migrated first). The two big records (base and
 * cache: one entry per file, 100,000 entries for a large folder) are checked by a plain loop,
 * which costs a few ms where zod's record-of-object check costs tens to hundreds; the small parts
 * keep the zod schema. Both reject exactly what StateSchema rejects for these fields.
 */
export function parseState(raw: unknown): SyncState {
  const o = plainRecord(isVersion1(raw) ? migrateVersion1(raw) : raw, 'state');
  const base = plainRecord(o.base, 'base');
  for (const k in base) if (typeof base[k] !== 'string') throw new Error(`base[${JSON.stringify(k)}] is not a string`);
  const cache = plainRecord(o.cache, 'cache');
  for (const k in cache) {
    const e = cache[k] as Record<string, unknown> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      Array.isArray(e) ||
      typeof e.size !== 'number' ||
      typeof e.mtime_ms !== 'number' ||
      typeof e.ino !== 'number' ||
      typeof e.hash !== 'string'
    ) {
      throw new Error(`cache[${JSON.stringify(k)}] is not {size, mtime_ms, ino, hash}`);
    }
    // Same output as zod's object parse: only the known keys are kept.
    if (Object.keys(e).length !== 4) cache[k] = { size: e.size, mtime_ms: e.mtime_ms, ino: e.ino, hash: e.hash };
  }
  const rest = StateSchema.omit({ base: true, cache: true }).parse(o);
  const state: SyncState = { version: rest.version, base: base as Record<string, string>, cache: cache as Record<string, CacheEntry>, conflicts: rest.conflicts, failures: rest.failures };
  if (rest.clean_cursor !== undefined) state.clean_cursor = rest.clean_cursor;
  if (rest.clean_hidden !== undefined) state.clean_hidden = rest.clean_hidden;
  return state;
}

export function plainRecord(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${name} is not an object`);
  return v as Record<string, unknown>;
}

export class StateStore {
  /** Raw (untracked) state behind the tracked one handed out, and whether it changed since written. */
  private tracked: { proxy: SyncState; raw: SyncState } | undefined;
  private dirty = false;
  /** For a state not handed out by `load` (tests, callers building one by hand): the text last written. */
  private lastWritten: string | undefined;

  constructor(readonly stateDir: string) {}

  get file(): string {
    return join(this.stateDir, STATE_FILE);
  }

  /**
   * A missing or corrupt file starts empty. Empty state has no base, so the next round merges and
   * deletes nothing (docs/SYNC-SPEC.md invariant 9); the corrupt file is kept aside, never
   * silently reused. A version 1 file is migrated and counts as changed, so the next save writes
   * it as version 2.
   */
  async load(): Promise<LoadedState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: this.adopt(emptyState(), true) };
      throw e;
    }
    try {
      const raw = JSON.parse(text) as unknown;
      const migrated = isVersion1(raw);
      return { state: this.adopt(parseState(raw), migrated) };
    } catch (e) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, aside).catch(() => {}); // when it cannot be moved aside it is overwritten by the next save; either way it is never read again
      return {
        state: this.adopt(emptyState(), true),
        recovered: `state file was unreadable (${(e as Error).message.slice(0, 200)}); kept as ${aside}`,
      };
    }
  }

  /** True when the state handed out by `load` changed since it was last written (or read). */
  get changed(): boolean {
    return this.dirty;
  }

  /** Writes only when something changed, so a no-change round writes no state (invariant 7). */
  async save(state: SyncState): Promise<boolean> {
    if (this.tracked && state === this.tracked.proxy) {
      if (!this.dirty) return false;
      // Cleared before the write: a change made while it is under way marks it again.
      this.dirty = false;
      try {
        await writeFileAtomic(this.file, JSON.stringify(this.tracked.raw), join(this.stateDir, 'tmp'));
      } catch (e) {
        this.dirty = true;
        throw e;
      }
      return true;
    }
    // A state this store did not hand out: compare what would be written with what was.
    const text = JSON.stringify(state);
    if (text === this.lastWritten) return false;
    await writeFileAtomic(this.file, text, join(this.stateDir, 'tmp'));
    this.lastWritten = text;
    return true;
  }

  private adopt(raw: SyncState, dirty: boolean): SyncState {
    const proxy = track(raw, () => {
      this.dirty = true;
    });
    this.tracked = { proxy, raw };
    this.dirty = dirty;
    return proxy;
  }
}
