// The client's durable state (SYNC-SPEC "Terms": base per path, plus the hash cache), one JSON
// file written atomically in the state dir. Everything a round needs is derived from the folder,
// this base and the hub listing, so a crash or restart loses nothing.
//
// Cost on a no-change round: the state handed out by `load` is wrapped in a change tracker
// (below), so `save` knows without serialising anything whether there is something to write.
// The tracker sits on every level a writer in app/sync assigns to (the state object itself,
// `base`, `cache`, `failures`, the `conflicts` array), so no mutation path can forget to mark
// it; a write of an equal value (the round re-assigning an unchanged cache) is not a change.
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/node/atomic-fs.ts';

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
  /**
   * The hub listing's cursor at which the hub held exactly `base` (round.ts, "clean cursor").
   * Optional: state files written before it existed load unchanged (and older clients drop it,
   * which only costs them nothing). Any change to `base` removes it (see `track`).
   */
  cleanCursor: z.string().optional(),
  /**
   * Paths (listed by the hub or in base) that the ignore rules hid when `cleanCursor` was set:
   * the listing was only compared on paths the rules let through, so if one of these stops being
   * ignored the clean cursor says nothing about it and must not be used.
   */
  cleanHidden: z.array(z.string()).optional(),
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

/**
 * Validation of a state file. The two big records (base and cache: one entry per file, 100,000
 * entries for a large folder) are checked by a plain loop, which costs a few ms where zod's
 * record-of-object check costs tens to hundreds; the small parts keep the zod schema. Both
 * reject exactly what StateSchema rejects for these fields.
 */
export function parseState(raw: unknown): SyncState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('state is not an object');
  const o = raw as Record<string, unknown>;
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
      typeof e.mtimeMs !== 'number' ||
      typeof e.ino !== 'number' ||
      typeof e.hash !== 'string'
    ) {
      throw new Error(`cache[${JSON.stringify(k)}] is not {size, mtimeMs, ino, hash}`);
    }
    // Same output as zod's object parse: only the known keys are kept.
    if (Object.keys(e).length !== 4) cache[k] = { size: e.size, mtimeMs: e.mtimeMs, ino: e.ino, hash: e.hash };
  }
  const rest = StateSchema.omit({ base: true, cache: true }).parse(o);
  const state: SyncState = { version: rest.version, base: base as Record<string, string>, cache: cache as Record<string, CacheEntry>, conflicts: rest.conflicts, failures: rest.failures };
  if (rest.cleanCursor !== undefined) state.cleanCursor = rest.cleanCursor;
  if (rest.cleanHidden !== undefined) state.cleanHidden = rest.cleanHidden;
  return state;
}

function plainRecord(v: unknown, name: string): Record<string, unknown> {
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
   * deletes nothing (SYNC-SPEC invariant 9); the corrupt file is kept aside, never silently reused.
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
      return { state: this.adopt(parseState(JSON.parse(text)), false) };
    } catch (e) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, aside).catch(() => {});
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

/**
 * Wraps a state so every change to it calls `changed`: assignments and deletes on the state
 * itself, on `base`, `cache` and `failures` (keyed records) and on the `conflicts` array (push,
 * splice, index writes, or replacing it). Entries are values: a writer replaces an entry, it
 * never edits one in place (round.ts, quick-round.ts, engine.ts). Any change to `base` also
 * drops `cleanCursor`: the clean cursor vouches for "the hub holds exactly base" (round.ts),
 * which a new base no longer is.
 */
export function track(raw: SyncState, changed: () => void): SyncState {
  const views = new Map<string, object>();
  const top = raw as unknown as Record<string, unknown>;
  const dropClean = (): void => {
    if (top.cleanCursor !== undefined || top.cleanHidden !== undefined) {
      delete top.cleanCursor;
      delete top.cleanHidden;
    }
  };
  const unwrap = new WeakMap<object, object>();
  const view = (field: string): object => {
    const target = top[field] as object;
    let v = views.get(field);
    if (v && unwrap.get(v) === target) return v;
    const onChange = (): void => {
      if (field === 'base') dropClean();
      changed();
    };
    v = new Proxy(target, {
      set(t, k, value) {
        const r = t as Record<string | symbol, unknown>;
        if (Array.isArray(t) || !Object.hasOwn(r, k) || !sameJson(r[k], value)) {
          r[k] = value;
          onChange();
        }
        return true;
      },
      deleteProperty(t, k) {
        const r = t as Record<string | symbol, unknown>;
        if (Object.hasOwn(r, k)) {
          delete r[k];
          onChange();
        }
        return true;
      },
      defineProperty(t, k, d) {
        onChange();
        return Reflect.defineProperty(t, k, d);
      },
    });
    unwrap.set(v, target);
    views.set(field, v);
    return v;
  };
  const tracked = new Set(['base', 'cache', 'failures', 'conflicts']);
  return new Proxy(raw, {
    get(t, k, recv) {
      if (typeof k === 'string' && tracked.has(k)) return view(k);
      return Reflect.get(t, k, recv);
    },
    set(_t, k, value) {
      if (typeof k !== 'string') return false;
      const plain = (typeof value === 'object' && value !== null && unwrap.get(value)) || value;
      if (Object.hasOwn(top, k) && sameJson(top[k], plain)) return true;
      top[k] = plain;
      if (k === 'base') dropClean();
      changed();
      return true;
    },
    deleteProperty(_t, k) {
      if (typeof k === 'string' && Object.hasOwn(top, k)) {
        delete top[k];
        if (k === 'base') dropClean();
        changed();
      }
      return true;
    },
  });
}

/**
 * Deep equality of JSON values (what the file would hold), without serialising: the round
 * re-assigns the whole cache (100,000 entries for a large folder) every time, so this is the
 * no-change path and is kept to plain loops. Conservative where JSON is lenient: a key holding
 * `undefined` on one side only counts as a difference (one needless write, never a missed one).
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const arr = Array.isArray(a);
  if (arr !== Array.isArray(b)) return false;
  if (arr) {
    const aa = a as unknown[];
    const bb = b as unknown[];
    if (aa.length !== bb.length) return false;
    for (let i = 0; i < aa.length; i++) if (!sameJson(aa[i], bb[i])) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  for (const k of keys) {
    const va = ra[k];
    const vb = rb[k];
    if (va === vb) {
      if (va === undefined && !Object.hasOwn(rb, k)) return false;
      continue;
    }
    if (!sameJson(va, vb)) return false;
  }
  return true;
}
