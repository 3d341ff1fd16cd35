// Change tracking of the client state (state.ts). Cost on a no-change round: the state handed
// out by `load` is wrapped in this tracker, so `save` knows without serialising anything whether
// there is something to write. The tracker sits on every level a writer in app/sync assigns to
// (the state object itself, `base`, `cache`, `failures`, the `conflicts` array), so no mutation
// path can forget to mark it; a write of an equal value (the round re-assigning an unchanged
// cache) is not a change.
import type { SyncState } from './state.ts';

/**
 * Wraps a state so every change to it calls `changed`: assignments and deletes on the state
 * itself, on `base`, `cache` and `failures` (keyed records) and on the `conflicts` array (push,
 * splice, index writes, or replacing it). Entries are values: a writer replaces an entry, it
 * never edits one in place (executor.ts, round.ts, quick-round.ts, conflict-resolver.ts). Any
 * change to `base` also drops `clean_cursor`: the clean cursor vouches for "the hub holds exactly
 * base" (clean-cursor.ts), which a new base no longer is.
 */
export function track(raw: SyncState, changed: () => void): SyncState {
  const views = new Map<string, object>();
  const top = raw as unknown as Record<string, unknown>;
  const dropClean = (): void => {
    if (top.clean_cursor !== undefined || top.clean_hidden !== undefined) {
      delete top.clean_cursor;
      delete top.clean_hidden;
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
