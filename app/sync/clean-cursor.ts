// The clean cursor: how a no-change round does without the hub's full listing (round.ts asks for
// it conditionally and records the outcome here).
import type { IgnoreMatcher } from '../../shared/ignore-rules.ts';
import { pathKey } from '../../shared/paths.ts';
import type { Step } from './plan.ts';
import type { SyncState } from './state.ts';

// A no-change round should not need the hub's full listing. The hub lets the client ask for it
// conditionally (If-None-Match "<cursor>", server/README.md "Listing"): 304 means the feed holds
// nothing after that cursor and the hub has verified its view, i.e. the hub holds now what it
// listed at that cursor. The client may then plan against `base` as the remote view only if it
// knows the listing at that cursor equalled its base. Why that is safe (docs/SYNC-SPEC.md's
// decision table, shared/reconcile.ts, needs the true remote hash of every path):
//
// - `clean_cursor = C` is stored only after a round whose listing L (cursor C, taken by the hub
//   before its walk) equals the base at the end of that round on every path the ignore rules let
//   through (`cleanAfter`), when the round planned nothing on the hub (no upload, remote delete or
//   conflict), and no step failed or asked for another round. So at that point hub(C) = base.
// - Every later change to `base` (a full round, a quick round, a resolution) drops `clean_cursor`
//   (state-tracking.ts `track`), so whenever it is present, base is still the base that equalled L.
// - A 304 for C means nothing was announced after C, so hub(now) = hub(C) = L = base: planning
//   with remote := base gives exactly the plan the full listing would give. The hub only answers
//   304 once it has walked the workspace, and announces whatever its walks find the watcher
//   missed after C; the engine resumes the feed from C, so such a change reaches the client too.
// - Remote steps planned from a 304 are still conditional on base (If-Match base / If-None-Match
//   *), and any change they make drops `clean_cursor` (base changes) or fails with 412 (the hub
//   moved meanwhile; a round that asks for another drops it too), so the next round lists in full.
// - Ignore rules: L was compared only on paths the round syncs (not ignored, or found by the scan
//   as a file); the paths left out (listed by the hub or in base) are kept in `clean_hidden`. If one
//   of them is no longer ignored (the rules changed) the clean cursor is not sent; if the scan
//   finds one, the round asks for the full listing after the 304.
// - An older hub ignores the header and answers 200: the round is the full round it always was.

/** Hidden paths above this many: not worth keeping; such a folder always lists in full. */
const MAX_CLEAN_HIDDEN = 1000;

/** The clean cursor to send as If-None-Match, if the state holds one that still applies. */
export function usableCleanCursor(state: SyncState, ignore: IgnoreMatcher): string | undefined {
  const c = state.clean_cursor;
  if (c === undefined) return undefined;
  for (const p of state.clean_hidden ?? []) if (!ignore.ignores(p)) return undefined;
  return c;
}

/**
 * Whether the listing equals `base` on every path the rules let through, and which paths (of the
 * listing or base) they hid; undefined when they differ.
 */
export function cleanAfter(
  files: readonly { path: string; hash: string }[],
  base: Readonly<Record<string, string>>,
  ignore: Pick<IgnoreMatcher, 'ignores'>,
): { hidden: string[] } | undefined {
  const hidden = new Set<string>();
  let listed = 0;
  for (const f of files) {
    const key = pathKey(f.path);
    if (ignore.ignores(key)) {
      hidden.add(key);
      continue;
    }
    if (base[key] !== f.hash) return undefined;
    listed++;
  }
  let inBase = 0;
  for (const key of Object.keys(base)) {
    if (ignore.ignores(key)) hidden.add(key);
    else inBase++;
  }
  if (inBase !== listed || hidden.size > MAX_CLEAN_HIDDEN) return undefined;
  return { hidden: [...hidden].sort() };
}

/** How a round ended, as far as the clean cursor is concerned. */
export interface RoundEnd {
  /** The listing the round planned from: the hub's (200), or a 304 for the clean cursor. */
  listing: { notModified: true } | { cursor: string; files: readonly { path: string; hash: string }[] };
  steps: readonly Step[];
  /** A step asked for another round (a 412, a file changing here). */
  again: boolean;
  failed: number;
  /** The paths the round synced: not ignored, or found by the scan as a file. */
  kept: (key: string) => boolean;
}

/** After a round, before the state is saved: set the clean cursor, keep it, or drop it. */
export function settleCleanCursor(state: SyncState, end: RoundEnd): void {
  const { listing } = end;
  if ('notModified' in listing) {
    // A step that asks for another round (a 412: the hub moved behind its feed, a file changing
    // here) makes the next round list in full rather than plan from the base again.
    if (end.again || end.steps.some((s) => s.kind === 'move-aside')) {
      delete state.clean_cursor;
      delete state.clean_hidden;
    }
    return;
  }
  const verdict = cleanAfter(listing.files, state.base, { ignores: (k) => !end.kept(k) });
  if (verdict && !end.again && end.failed === 0 && !end.steps.some(changesRemote)) {
    state.clean_cursor = listing.cursor;
    if (verdict.hidden.length > 0) state.clean_hidden = verdict.hidden;
    else delete state.clean_hidden;
  } else {
    delete state.clean_cursor;
    delete state.clean_hidden;
  }
}

function changesRemote(s: Step): boolean {
  return s.kind === 'upload' || s.kind === 'delete-remote' || s.kind === 'conflict' || s.kind === 'move-aside';
}
