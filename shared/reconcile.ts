// The docs/SYNC-SPEC.md decision table as a pure function. Both sides use it: the client for
// local <-> hub, the hub for workspace <-> knowledge base. Nothing here touches I/O or clocks.

/** What one replica holds at a path: its content hash, or undefined when absent. */
export type Side = string | undefined;

export type Decision =
  | { kind: 'nothing' }
  | { kind: 'upload' } // local -> remote, precondition: remote still at base (or absent)
  | { kind: 'download' } // remote -> local
  | { kind: 'record-base'; hash: string } // both already agree
  | { kind: 'conflict' } // remote keeps the path, local becomes a conflict copy
  | { kind: 'delete-remote' }
  | { kind: 'delete-local' }
  | { kind: 'drop-base' };

/**
 * Decide one path from (base, local, remote) hashes.
 * `undefined` means absent (for base: never agreed on).
 */
export function decide(base: Side, local: Side, remote: Side): Decision {
  if (base === undefined) {
    if (local === undefined && remote === undefined) return { kind: 'nothing' };
    if (remote === undefined) return { kind: 'upload' };
    if (local === undefined) return { kind: 'download' };
    return local === remote ? { kind: 'record-base', hash: local } : { kind: 'conflict' };
  }
  const lChanged = local !== base;
  const rChanged = remote !== base;
  if (!lChanged && !rChanged) return { kind: 'nothing' };
  if (lChanged && !rChanged) return local === undefined ? { kind: 'delete-remote' } : { kind: 'upload' };
  if (!lChanged && rChanged) return remote === undefined ? { kind: 'delete-local' } : { kind: 'download' };
  // Both changed.
  if (local === undefined && remote === undefined) return { kind: 'drop-base' };
  if (local === undefined) return { kind: 'download' }; // a change beats a delete
  if (remote === undefined) return { kind: 'upload' }; // a change beats a delete
  return local === remote ? { kind: 'record-base', hash: local } : { kind: 'conflict' };
}

export interface PlannedAction {
  path: string;
  decision: Decision;
  base: Side;
  local: Side;
  remote: Side;
}

/** Decide every path known to any of the three maps (keys are NFC paths). */
export function reconcile(
  base: ReadonlyMap<string, string>,
  local: ReadonlyMap<string, string>,
  remote: ReadonlyMap<string, string>,
): PlannedAction[] {
  const paths = new Set<string>([...base.keys(), ...local.keys(), ...remote.keys()]);
  const out: PlannedAction[] = [];
  for (const path of [...paths].sort()) {
    const b = base.get(path);
    const l = local.get(path);
    const r = remote.get(path);
    const decision = decide(b, l, r);
    if (decision.kind !== 'nothing') out.push({ path, decision, base: b, local: l, remote: r });
  }
  return out;
}

export interface GuardInput {
  /** Paths the base holds (what the replicas last agreed on). */
  baseCount: number;
  /** Deletes the plan would make on the local replica. */
  localDeletes: number;
  /** Deletes the plan would make on the remote replica. */
  remoteDeletes: number;
  /** True when the local root is missing or empty. */
  localRootGone: boolean;
  /** Share of the base above which a round stops (default 0.5). */
  threshold?: number;
  /** Small replicas churn legitimately: below this many deletes the share rule is not applied. */
  minDeletes?: number;
}

export type GuardVerdict = { stop: false } | { stop: true; reason: string };

/** docs/SYNC-SPEC.md invariant 10: the mass-delete guard. */
export function massDeleteGuard(g: GuardInput): GuardVerdict {
  const threshold = g.threshold ?? 0.5;
  const minDeletes = g.minDeletes ?? 10;
  if (g.localRootGone && g.baseCount > 0) {
    return { stop: true, reason: 'the local folder is missing or empty while the last sync had files' };
  }
  for (const [where, n] of [
    ['hub', g.remoteDeletes],
    ['local folder', g.localDeletes],
  ] as const) {
    if (n >= minDeletes && g.baseCount > 0 && n / g.baseCount > threshold) {
      return {
        stop: true,
        reason: `this round would delete ${n} of ${g.baseCount} files on the ${where} (over ${Math.round(threshold * 100)}%)`,
      };
    }
  }
  return { stop: false };
}
