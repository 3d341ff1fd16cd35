// Pure decisions of the workspace <-> knowledge-base round: which KB file stands for which
// workspace path, what to do per path (shared/reconcile.ts decides), and when a failed file may
// be tried again. No I/O here, no clocks: `now` comes in.
import { freeConflictCopyName, isConflictCopy } from '../../shared/conflict-name.ts';
import { nextFailure, retryDue, type BackoffRule } from '../../shared/failure.ts';
import { HASH_PREFIX } from '../../shared/hash.ts';
import { checkPath } from '../../shared/paths.ts';
import { reconcile, massDeleteGuard, type Decision, type PlannedAction } from '../../shared/reconcile.ts';
import type { StepKind } from '../../shared/steps.ts';
import type { KbExclusion } from './exclude.ts';
import { HUB_MARKER } from './markers.ts';
import type { OwuiFile } from './schemas.ts';
import type { Failure, FailureReason, FailureSide, SyncState } from './state-schema.ts';

export type Direction = 'to_openwebui' | 'from_openwebui' | 'bidirectional';

/** Text-bearing types Open WebUI's default loaders extract (RALPH_SYNC_EXTENSIONS overrides). */
export const DEFAULT_EXTENSIONS = [
  'md', 'markdown', 'txt', 'text', 'rst', 'org', 'adoc', 'tex', 'csv', 'tsv', 'json', 'jsonl', 'yaml', 'yml',
  'toml', 'xml', 'html', 'htm', 'pdf', 'docx', 'doc', 'odt', 'rtf', 'pptx', 'xlsx', 'xls', 'epub', 'ipynb',
  'py', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'java', 'go', 'rs', 'rb', 'c', 'h', 'cpp', 'hpp', 'cs', 'sh',
  'sql', 'css', 'ini', 'cfg', 'conf', 'log',
];

export interface RemoteFile {
  id: string;
  path: string;
  /** `sha256:<hex>` of the raw bytes, or undefined when the release does not say (download to know). */
  hash: string | undefined;
  size: number | undefined;
  createdAt: number;
  hubCreated: boolean;
}

export interface RemoteView {
  byPath: Map<string, RemoteFile>;
  /** Second copies of a path the hub itself uploaded (e.g. a crash between add and remove): safe to clean up. */
  hubLeftovers: RemoteFile[];
  /** KB files the hub cannot place (second user file under one name, unusable name): left alone. */
  ignored: { id: string; name: string; reason: string }[];
}

/**
 * Place every KB file at a workspace path. The state's file-id mapping wins (file bytes never
 * change under one id), then the path the hub put in the upload metadata, then the folder and
 * basename Open WebUI shows.
 */
export function viewRemote(files: readonly OwuiFile[], state: SyncState): RemoteView {
  const idToPath = new Map<string, string>();
  for (const [path, f] of Object.entries(state.files)) idToPath.set(f.openwebui_file_id, path);
  for (const [path, p] of Object.entries(state.pending)) if (!idToPath.has(p.openwebui_file_id)) idToPath.set(p.openwebui_file_id, path);

  const candidates = new Map<string, RemoteFile[]>();
  const ignored: RemoteView['ignored'] = [];
  for (const f of files) {
    const meta = f.meta?.data ?? {};
    const hubCreated = meta['uploaded_by'] === HUB_MARKER;
    const name = f.meta?.name ?? f.filename ?? f.id;
    let path = idToPath.get(f.id);
    if (!path && hubCreated && typeof meta['path'] === 'string') path = meta['path'];
    if (!path) {
      const dir = (f.directory_path ?? '').replace(/^\/+|\/+$/g, '');
      path = dir ? `${dir}/${name}` : name;
    }
    const checked = checkPath(path);
    if (!checked.ok) {
      ignored.push({ id: f.id, name, reason: `unusable name: ${checked.reason}` });
      continue;
    }
    const stateEntry = state.files[checked.path];
    const rawHash = f.meta?.file_hash;
    const hash =
      stateEntry && stateEntry.openwebui_file_id === f.id
        ? stateEntry.hash
        : typeof rawHash === 'string' && /^[0-9a-f]{64}$/.test(rawHash)
          ? HASH_PREFIX + rawHash
          : undefined;
    const rf: RemoteFile = {
      id: f.id,
      path: checked.path,
      hash,
      size: f.meta?.size ?? undefined,
      createdAt: f.created_at ?? 0,
      hubCreated,
    };
    const list = candidates.get(checked.path) ?? [];
    list.push(rf);
    candidates.set(checked.path, list);
  }

  const byPath = new Map<string, RemoteFile>();
  const hubLeftovers: RemoteFile[] = [];
  for (const [path, list] of candidates) {
    const known = state.files[path]?.openwebui_file_id;
    const sorted = [...list].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    // The newest hub upload is the one a crashed replace was putting in place.
    const chosen =
      sorted.find((r) => r.id === known && !sorted.some((o) => o.hubCreated && o.createdAt > r.createdAt)) ??
      [...sorted].reverse().find((r) => r.hubCreated) ??
      sorted[0]!;
    byPath.set(path, chosen);
    for (const r of sorted) {
      if (r === chosen) continue;
      if (r.hubCreated) hubLeftovers.push(r);
      else ignored.push({ id: r.id, name: path, reason: 'another KB file already has this name' });
    }
  }
  return { byPath, hubLeftovers, ignored };
}

export function extensionAllowed(path: string, allowed: readonly string[]): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  return allowed.includes(name.slice(dot + 1).toLowerCase());
}

/** Steps may only be of the kinds both pipelines share (shared/steps.ts): a new kind fails to compile. */
type OfSharedKinds<S extends { kind: StepKind }> = S;

export type Step = OfSharedKinds<
  | { kind: 'upload'; path: string; hash: string; replaces?: string }
  | { kind: 'download'; path: string; remote: RemoteFile; localHash: string | undefined }
  /** `copy`: a free name for the KB's version (see `copyNames`). */
  | { kind: 'conflict'; path: string; remote: RemoteFile; localHash: string; copy: string }
  /** `excluded`: the rule that now leaves the path out of the KB (exclude.ts); the workspace file stays. */
  | { kind: 'delete-remote'; path: string; fileId: string; excluded?: string }
  | { kind: 'delete-local'; path: string; baseHash: string }
  | { kind: 'record-base'; path: string; remote: RemoteFile }
  | { kind: 'drop-base'; path: string }
>;

export type Hold =
  | { path: string; why: 'direction'; decision: Decision['kind'] }
  | { path: string; why: 'unsupported_type' }
  | { path: string; why: 'backoff'; failure: Failure }
  /** A KB file at a path the rules exclude that the hub leaves alone (a web upload, or no base for it). */
  | { path: string; why: 'excluded'; rule: string };

export interface Plan {
  steps: Step[];
  held: Hold[];
  /** Set when the mass-delete guard stopped this round's deletes. */
  guard?: string;
  /** The delete steps the guard held back (none when `guard` is unset). */
  guarded: Step[];
}

export interface PlanInput {
  state: SyncState;
  local: ReadonlyMap<string, string>;
  remote: RemoteView;
  direction: Direction;
  extensions: readonly string[];
  now: Date;
  /** The workspace folder itself is missing (not merely empty: emptying it file by file is legitimate). */
  localRootGone?: boolean;
  /** Paths that never go to the KB (exclude.ts); none when absent. */
  exclusion?: KbExclusion;
  /**
   * Deletes the user confirmed after the guard held them (path -> the base hash it held them at):
   * such a delete is carried out and not weighed again, unless the workspace folder is missing
   * (never confirmable) or the path's base moved on since.
   */
  confirmed?: ReadonlyMap<string, string>;
}

/** The round's steps, deletes first so a rename never trips duplicate detection. */
export function planRound(input: PlanInput): Plan {
  const excluded = excludedPaths(input);
  const kept = ([p]: [string, unknown]): boolean => !excluded.has(p);
  const base = new Map(Object.entries(input.state.files).filter(kept).map(([p, f]) => [p, f.hash]));
  const local = excluded.size > 0 ? new Map([...input.local].filter(kept)) : input.local;
  const remoteHashes = new Map<string, string>();
  for (const [p, r] of input.remote.byPath) if (!excluded.has(p)) remoteHashes.set(p, r.hash ?? `unknown:${r.id}`);

  const steps: Step[] = [];
  const held: Hold[] = [];
  const names = copyNames(input);
  for (const a of reconcile(base, local, remoteHashes)) planPath(input, a, steps, held, names);
  for (const [path, rule] of excluded) planExcluded(input, path, rule, steps, held);
  return guardDeletes(input, Object.keys(input.state.files).length, steps, held);
}

/**
 * Every path of the round (workspace, base, KB) that the rules keep out of the KB, with its rule.
 * Such a path takes no part in the decision table: nothing of it goes up or comes down.
 */
function excludedPaths(input: PlanInput): Map<string, string> {
  const out = new Map<string, string>();
  const { exclusion } = input;
  if (!exclusion) return out;
  const seen = new Set<string>();
  const check = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const rule = exclusion.ruleFor(p);
    if (rule !== undefined) out.set(p, rule);
  };
  for (const p of input.local.keys()) check(p);
  for (const p of Object.keys(input.state.files)) check(p);
  for (const p of input.remote.byPath.keys()) check(p);
  return out;
}

/**
 * An excluded path. A KB file the hub put there (base source 'ralph') is removed from the KB and
 * its base forgotten; the workspace file is never touched. A web upload is the user's own choice
 * for the KB: it stays there, unsynced (its base, if any, kept for when the rule goes away), and
 * is reported. Without a base the hub deletes nothing in the KB (SYNC-SPEC "Deletes in the KB
 * need a base").
 */
function planExcluded(input: PlanInput, path: string, rule: string, steps: Step[], held: Hold[]): void {
  const base = input.state.files[path];
  const r = input.remote.byPath.get(path);
  if (base?.source === 'ralph') {
    const hubFile = r && (r.id === base.openwebui_file_id || r.hubCreated) ? r : undefined;
    if (hubFile && input.direction === 'from_openwebui') {
      held.push({ path, why: 'direction', decision: 'delete-remote' });
      return;
    }
    if (hubFile) {
      steps.push({ kind: 'delete-remote', path, fileId: hubFile.id, excluded: rule });
      return;
    }
    // The hub's file is no longer in the KB: only the base is left to forget.
    steps.push({ kind: 'drop-base', path });
  }
  if (r) held.push({ path, why: 'excluded', rule });
}

/**
 * A free name for the KB version of a conflict. The name carries the time to the second, so a
 * second conflict at one path within that second (a web upload after a conflict whose upload
 * failed) would get the first one's name: the write then found the name taken, and the conflict
 * was never settled (docs/RELIABILITY.md "Bugs found and fixed", 10). The stamp moves on a
 * second at a time until the name is free in the workspace, the base, the KB and this plan.
 */
function copyNames(input: PlanInput): (path: string) => string {
  let taken: Set<string> | undefined;
  return (path) => {
    taken ??= new Set([
      ...input.local.keys(),
      ...Object.keys(input.state.files),
      ...Object.keys(input.state.pending),
      ...input.remote.byPath.keys(),
    ]);
    const name = freeConflictCopyName(path, 'openwebui', input.now, (n) => taken!.has(n));
    taken.add(name);
    return name;
  };
}

/** One path's step, or why it is held, by the decision shared/reconcile.ts made for it. */
function planPath(input: PlanInput, a: PlannedAction, steps: Step[], held: Hold[], copyName: (path: string) => string): void {
  const { state, remote, direction, extensions, now } = input;
  const toKb = direction !== 'from_openwebui';
  const fromKb = direction !== 'to_openwebui';
  const r = remote.byPath.get(a.path);
  const hold = (): void => void held.push({ path: a.path, why: 'direction', decision: a.decision.kind });

  /** A transfer of this very content failed and its backoff has not run out: hold it. */
  const inBackoff = (path: string, hash: string | undefined, side: FailureSide): boolean => {
    const failure = state.failures[path];
    if (!failure || failure.side !== side || failure.hash !== hash) return false;
    if (retryDue(failure, now)) return false;
    held.push({ path, why: 'backoff', failure });
    return true;
  };

  switch (a.decision.kind) {
    case 'upload': {
      if (!toKb) { hold(); break; }
      if (!extensionAllowed(a.path, extensions)) { held.push({ path: a.path, why: 'unsupported_type' }); break; }
      if (inBackoff(a.path, a.local, 'to_openwebui')) break;
      steps.push({ kind: 'upload', path: a.path, hash: a.local!, ...(r ? { replaces: r.id } : {}) });
      break;
    }
    case 'download':
      if (!fromKb) { hold(); break; }
      if (inBackoff(a.path, a.remote, 'from_openwebui')) break;
      steps.push({ kind: 'download', path: a.path, remote: r!, localHash: a.local });
      break;
    case 'conflict':
      // The workspace keeps the path (the hub is authoritative); the KB's version is kept as a copy.
      if (!fromKb) { hold(); break; }
      if (inBackoff(a.path, a.remote, 'from_openwebui')) break;
      if (isConflictCopy(a.path)) {
        // A conflict copy never gets a copy of its own (SYNC-SPEC "Conflicts"). The KB has no
        // history, so its bytes are the ones that must not be lost: they replace the workspace's,
        // whose old bytes the store keeps as a version (SYNC-SPEC "Kept versions").
        steps.push({ kind: 'download', path: a.path, remote: r!, localHash: a.local });
        break;
      }
      steps.push({ kind: 'conflict', path: a.path, remote: r!, localHash: a.local!, copy: copyName(a.path) });
      break;
    case 'delete-remote':
      if (!toKb) { hold(); break; }
      steps.push({ kind: 'delete-remote', path: a.path, fileId: state.files[a.path]!.openwebui_file_id });
      break;
    case 'delete-local':
      if (!fromKb) { hold(); break; }
      steps.push({ kind: 'delete-local', path: a.path, baseHash: a.base! });
      break;
    case 'record-base':
      steps.push({ kind: 'record-base', path: a.path, remote: r! });
      break;
    case 'drop-base':
      steps.push({ kind: 'drop-base', path: a.path });
      break;
    case 'nothing':
      break;
  }
}

/**
 * Deletes first; a group of deletes is dropped when the mass-delete guard stops it. The removals
 * the ignore rules ask for are weighed on their own: a rule that excludes most of the KB holds
 * them back (and says so) without also holding back the deletes a user made, and those in turn
 * cannot hide such a rule.
 */
function guardDeletes(input: PlanInput, baseCount: number, steps: Step[], held: Hold[]): Plan {
  const gone = Boolean(input.localRootGone);
  const isDelete = (s: Step): boolean => s.kind === 'delete-local' || s.kind === 'delete-remote';
  const confirmed = (s: Step): boolean =>
    !gone && isDelete(s) && input.confirmed?.get(s.path) !== undefined && input.confirmed.get(s.path) === input.state.files[s.path]?.hash;
  const isRemoval = (s: Step): boolean => s.kind === 'delete-remote' && s.excluded !== undefined && !confirmed(s);
  const localDeletes = steps.filter((s) => s.kind === 'delete-local' && !confirmed(s)).length;
  const remoteDeletes = steps.filter((s) => s.kind === 'delete-remote' && !isRemoval(s) && !confirmed(s)).length;
  const removals = steps.filter(isRemoval).length;
  const verdict = massDeleteGuard({ baseCount, localDeletes, remoteDeletes, localRootGone: gone && remoteDeletes > 0 });
  // A missing workspace read as no rules at all (no .youlabignore, no sizes): hold the removals too.
  const rules = massDeleteGuard({ baseCount, localDeletes: 0, remoteDeletes: removals, localRootGone: gone && removals > 0 });
  const stopped = (s: Step): boolean => !confirmed(s) && (isRemoval(s) ? rules.stop : isDelete(s) && verdict.stop);
  const reasons = [
    ...(verdict.stop ? [verdict.reason] : []),
    ...(rules.stop
      ? [gone ? `the workspace folder is missing: ${removals} removals by the ignore rules wait` : `the ignore rules would remove ${removals} of ${baseCount} files from the KB (over 50%): they stay there`]
      : []),
  ];
  const order = (s: Step): number => (isDelete(s) ? 0 : 1);
  const kept = steps.filter((s) => !stopped(s)).sort((a, b) => order(a) - order(b));
  const guarded = steps.filter(stopped);
  return reasons.length > 0 ? { steps: kept, held, guard: reasons.join('; '), guarded } : { steps: kept, held, guarded };
}

/**
 * The KB's failure record after one more failure of `hash` going `side` (shared/failure.ts):
 * exponential backoff, 1, 2, 4 ... base units, capped; attempts count up only for the same
 * content going the same way.
 */
export function nextKbFailure(
  previous: Failure | undefined,
  failed: { side: FailureSide; hash: string; reason: FailureReason; message: string },
  now: Date,
  rule: BackoffRule,
): Failure {
  const { side, hash } = failed;
  const f = nextFailure(previous, failed, now, rule, () => previous?.side === side && previous.hash === hash);
  // Keys in the order the state file has always had them.
  return { side, hash, reason: f.reason, message: f.message, attempts: f.attempts, failed_at: f.failed_at, next_retry_at: f.next_retry_at };
}
