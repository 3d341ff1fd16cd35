// From (base, local scan, hub listing) to the steps of one round. Pure: no I/O, no clock (the
// caller passes `now`). The per-path decision is docs/SYNC-SPEC.md's table (shared/reconcile.ts);
// this module adds what the table leaves to the client: where a file lives on disk (NFC vs NFD),
// file/folder and case clashes, conflict copies, paths the hub would refuse, and files the hub
// refused before (413/507/400) that must not be retried in a loop.
import { freeConflictCopyName, isConflictCopy } from '../../shared/conflict-name.ts';
import { YOULABIGNORE } from '../../shared/ignore-rules.ts';
import { localNameMessage, localNameProblem, type LocalOs } from '../../shared/local-names.ts';
import { caseKey, checkPath, parentsOf, pathKey } from '../../shared/paths.ts';
import { retryDue, type FailureRecord } from '../../shared/failure.ts';
import { massDeleteGuard, reconcile, type GuardVerdict, type PlannedAction } from '../../shared/reconcile.ts';
import type { StepKind } from '../../shared/steps.ts';

export interface PlanLocalFile {
  rel: string;
  hash: string;
  size: number;
}

export interface PlanRemoteFile {
  hash: string;
  size: number;
  modified: string;
}

export type Step =
  | { kind: 'upload'; key: string; rel: string; hash: string; ifMatch?: string }
  | { kind: 'download'; key: string; rel: string; hash: string; expectLocal?: string }
  | { kind: 'delete-remote'; key: string; ifMatch: string }
  | { kind: 'delete-local'; key: string; rel: string; expectLocal: string }
  | { kind: 'record-base'; key: string; hash: string }
  | { kind: 'drop-base'; key: string }
  /** Hub keeps the path; the local bytes move to `copyKey` and are uploaded as a new file. */
  | { kind: 'conflict'; key: string; rel: string; copyKey: string; local: string; remote: string }
  /** A conflict copy never gets a conflict copy: the hub's bytes win, the local ones go to the trash. */
  | { kind: 'replace-local'; key: string; rel: string; hash: string; expectLocal: string }
  /** Move a local file or folder aside (file/folder clash, NFC/NFD twins) before anything else runs. */
  | { kind: 'move-aside'; key: string; fromRel: string; toRel: string; why: string; hash?: string }
  /** A path left alone this round; `down` when it is the hub's file that cannot come down. */
  | { kind: 'skip'; key: string; code: SkipCode; message: string; dir?: 'up' | 'down' };

/**
 * The kinds this planner uses, each one of the shared step vocabulary (shared/steps.ts): a step
 * kind outside it does not compile.
 */
export type PlanStepKind = SharedKind<Step['kind']>;
type SharedKind<K extends StepKind> = K;

export type SkipCode = 'bad_path' | 'too_large' | 'quota' | 'conflict' | 'case_clash' | 'refused';

export interface PlanInput {
  base: ReadonlyMap<string, string>;
  local: ReadonlyMap<string, PlanLocalFile>;
  localDirs: ReadonlySet<string>;
  remote: ReadonlyMap<string, PlanRemoteFile>;
  /** NFC/NFD spellings of a key that another on-disk name already holds. */
  twins?: readonly { key: string; rel: string }[];
  /** Uploads the hub refused before (state.ts `failures`), by NFC path. */
  failures?: Readonly<Record<string, FailureRecord>>;
  device: string;
  now: Date;
  localRoot: 'ok' | 'missing' | 'empty';
  caseInsensitive?: boolean;
  /** Whose filename rules the folder follows (shared/local-names.ts); default: no extra rules. */
  localOs?: LocalOs;
  guardThreshold?: number;
}

export interface Plan {
  steps: Step[];
  guard: GuardVerdict;
  /** Steps that would change a replica (everything but skips and base bookkeeping). */
  work: number;
}

/** The plan's inputs, and the one source of conflict copy names for this plan. */
type PlanContext = PlanInput & { copyName: (path: string) => string };

export function planRound(planInput: PlanInput): Plan {
  const input: PlanContext = { ...planInput, copyName: copyNames(planInput) };
  const actions = decideChanged(input);
  const { finalFiles, gone } = finalShape(input, actions);
  const moves = [...twinMoves(input), ...fileFolderClashes(input, finalFiles)];
  if (moves.length > 0) {
    // Moves change the local tree: do them alone and plan again next round from what is on disk.
    return { steps: moves, guard: { stop: false }, work: moves.length };
  }
  const steps = contentSteps(input, actions, gone);
  // The folder's rule file comes down alone; the rest is planned next round under the rules it
  // brings (folder-ignore.ts), so a first sync never fetches what those rules leave out.
  const rules = steps.find((s) => s.key === YOULABIGNORE && (s.kind === 'download' || s.kind === 'replace-local'));
  if (rules && steps.length > 1) return { steps: [rules], guard: { stop: false }, work: 1 };
  const guard = massDeleteGuard({
    baseCount: input.base.size,
    localDeletes: steps.filter((s) => s.kind === 'delete-local').length,
    remoteDeletes: steps.filter((s) => s.kind === 'delete-remote').length,
    localRootGone: input.localRoot !== 'ok',
    ...(input.guardThreshold !== undefined ? { threshold: input.guardThreshold } : {}),
  });
  const work = steps.filter((s) => s.kind !== 'skip' && s.kind !== 'record-base' && s.kind !== 'drop-base').length;
  return { steps, guard, work };
}

/** NFC/NFD twins: two names on disk for one workspace path. Keep the NFC one, move the other aside. */
function twinMoves(input: PlanContext): Step[] {
  return (input.twins ?? []).map((t) => ({
    kind: 'move-aside',
    key: t.key,
    fromRel: t.rel,
    toRel: input.copyName(t.rel),
    why: 'two spellings (NFC/NFD) of one name',
  }));
}

/** The decision table (shared/reconcile.ts) for every path where the three sides do not all agree. */
function decideChanged(input: PlanInput): PlannedAction[] {
  const { base, local, remote } = input;
  // A path where base, local and remote hold the same hash decides "nothing" (reconcile.ts), so it
  // is left out of all three: a no-change plan of 100,000 files then sorts and decides none of
  // them. A path is dropped from all three maps or from none.
  const agreed = new Set<string>();
  const localHashes = new Map<string, string>();
  for (const [k, v] of local) {
    if (base.get(k) === v.hash && remote.get(k)?.hash === v.hash) agreed.add(k);
    else localHashes.set(k, v.hash);
  }
  const baseHashes = new Map<string, string>();
  const remoteHashes = new Map<string, string>();
  // Every agreed path is in all three maps, so equal sizes mean every path agrees.
  if (agreed.size !== base.size || agreed.size !== remote.size) {
    for (const [k, h] of base) if (!agreed.has(k)) baseHashes.set(k, h);
    for (const [k, v] of remote) if (!agreed.has(k)) remoteHashes.set(k, v.hash);
  }
  return reconcile(baseHashes, localHashes, remoteHashes);
}

/** What exists once the round is done (a path that is a file here and a folder there clashes), and what goes. */
function finalShape(input: PlanInput, actions: readonly PlannedAction[]): { finalFiles: Set<string>; gone: Set<string> } {
  const finalFiles = new Set<string>();
  const gone = new Set<string>();
  for (const k of new Set([...input.local.keys(), ...input.remote.keys()])) finalFiles.add(k);
  for (const a of actions) {
    if (a.decision.kind === 'delete-local' || a.decision.kind === 'delete-remote' || a.decision.kind === 'drop-base') {
      finalFiles.delete(a.path);
      gone.add(a.path);
    }
  }
  return { finalFiles, gone };
}

/** One step per decided path (none for "nothing"), in the table's path order. */
function contentSteps(input: PlanContext, actions: readonly PlannedAction[], gone: ReadonlySet<string>): Step[] {
  const localCaseKeys = new Map<string, string>();
  if (input.caseInsensitive) for (const k of input.local.keys()) if (!gone.has(k)) localCaseKeys.set(caseKey(k), k);
  const steps: Step[] = [];
  for (const a of actions) {
    const step = stepFor(input, a, localCaseKeys);
    if (step) steps.push(step);
  }
  return steps;
}

function stepFor(input: PlanContext, a: PlannedAction, localCaseKeys: Map<string, string>): Step | undefined {
  const key = a.path;
  const l = input.local.get(key);
  const r = input.remote.get(key);
  const d = a.decision;
  switch (d.kind) {
    case 'upload':
      return uploadStep(input, key, l!, r);
    case 'download':
      return downloadStep(input, key, l, r!, localCaseKeys);
    case 'delete-remote':
      return { kind: 'delete-remote', key, ifMatch: r!.hash };
    case 'delete-local':
      return { kind: 'delete-local', key, rel: l!.rel, expectLocal: l!.hash };
    case 'record-base':
      return { kind: 'record-base', key, hash: d.hash };
    case 'drop-base':
      return { kind: 'drop-base', key };
    case 'conflict':
      if (isConflictCopy(key)) return { kind: 'replace-local', key, rel: l!.rel, hash: r!.hash, expectLocal: l!.hash };
      return { kind: 'conflict', key, rel: l!.rel, copyKey: input.copyName(key), local: l!.hash, remote: r!.hash };
    case 'nothing':
      return undefined;
  }
}

function uploadStep(input: PlanInput, key: string, l: PlanLocalFile, r: PlanRemoteFile | undefined): Step {
  const check = checkPath(key, { forUpload: true });
  if (!check.ok) return { kind: 'skip', key, code: 'bad_path', message: `${check.reason} (the hub refuses this name; rename the file)` };
  // The hub refused these very bytes before: they wait out the backoff (a changed file goes at once).
  const failed = input.failures?.[key];
  if (failed && failed.hash === l.hash && !retryDue(failed, input.now, l.hash)) {
    return { kind: 'skip', key, code: skipCodeOf(failed.reason), message: failed.message };
  }
  return { kind: 'upload', key, rel: l.rel, hash: l.hash, ...(r ? { ifMatch: r.hash } : {}) };
}

function downloadStep(input: PlanInput, key: string, l: PlanLocalFile | undefined, r: PlanRemoteFile, localCaseKeys: Map<string, string>): Step {
  const check = checkPath(key);
  if (!check.ok) return { kind: 'skip', key, code: 'bad_path', dir: 'down', message: `the hub's file cannot be written here: ${check.reason}` };
  const os = input.localOs ?? 'other';
  const name = localNameProblem(key, os);
  if (name) return { kind: 'skip', key, code: 'bad_path', dir: 'down', message: localNameMessage(key, name, os) };
  const other = localCaseKeys.get(caseKey(key));
  if (!l && other && other !== key) {
    return { kind: 'skip', key, code: 'case_clash', dir: 'down', message: `differs only in case from ${other}, which this filesystem cannot hold beside it` };
  }
  // Two new hub files that differ only in case would land on one name here: the first in path order comes down.
  if (!l && input.caseInsensitive) localCaseKeys.set(caseKey(key), key);
  return { kind: 'download', key, rel: l?.rel ?? key, hash: r.hash, ...(l ? { expectLocal: l.hash } : {}) };
}

/**
 * A path that ends up both a file and a folder. The hub keeps its shape, as with content
 * conflicts: the local side moves aside under a conflict name and is uploaded from there.
 */
function fileFolderClashes(input: PlanContext, finalFiles: ReadonlySet<string>): Step[] {
  const moves = new Map<string, Step>();
  const { local, remote, localDirs } = input;
  for (const k of finalFiles) {
    for (const parent of parentsOf(k)) {
      if (!finalFiles.has(parent)) continue;
      // `parent` is a file and also the folder of `k`.
      if (local.has(parent) && !remote.has(parent)) {
        // Local file where the hub has a folder.
        moves.set(parent, moveAside(input, parent, local.get(parent)!.rel, 'a local file has the name of a folder on the hub', local.get(parent)!.hash));
      } else if (remote.has(parent)) {
        // Hub file where the local side has a folder with files of its own.
        const localDirRel = relOfLocalDir(input, parent, k);
        if (localDirRel !== undefined) moves.set(parent, moveAside(input, parent, localDirRel, 'a local folder has the name of a file on the hub'));
      }
    }
  }
  // A hub file arriving where only an empty local folder stands is handled when downloading.
  void localDirs;
  return [...moves.values()];
}

function moveAside(input: PlanContext, key: string, fromRel: string, why: string, hash?: string): Step {
  return { kind: 'move-aside', key, fromRel, toRel: input.copyName(fromRel), why, ...(hash ? { hash } : {}) };
}

/**
 * Conflict copy names for one plan, each free: not a file here, on the hub or in the base, and
 * not given twice (shared/conflict-name.ts `freeConflictCopyName`: a second conflict at one path
 * within one second would otherwise be renamed over the first copy).
 */
function copyNames(input: PlanInput): (path: string) => string {
  let taken: Set<string> | undefined;
  return (path) => {
    taken ??= new Set([...input.local.keys(), ...input.remote.keys(), ...input.base.keys(), ...input.localDirs]);
    const name = freeConflictCopyName(path, input.device, input.now, (n) => taken!.has(pathKey(n)));
    taken.add(pathKey(name));
    return name;
  };
}

/** The on-disk spelling of a local folder, found through a file inside it. */
function relOfLocalDir(input: PlanInput, dirKey: string, childKey: string): string | undefined {
  const child = input.local.get(childKey);
  if (!child) return undefined;
  const depth = dirKey.split('/').length;
  return child.rel.split('/').slice(0, depth).join('/');
}

function skipCodeOf(code: string): SkipCode {
  if (code === 'too_large' || code === 'quota' || code === 'bad_path' || code === 'conflict') return code;
  return 'refused';
}
