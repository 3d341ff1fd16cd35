// How the executor (executor.ts) takes a failed step: try again next round, count and report it,
// remember a refusal so the same bytes are not offered again in a loop, or stop the whole round.
import { nextFailure, type BackoffRule, type FailureRecord } from '../../shared/failure.ts';
import type { ActivityEntry, EngineErrorCode, EngineIssue } from '../engine-api/types.ts';
import { HubError } from './hub-errors.ts';
import type { Step } from './plan.ts';
import { RoundError } from './round-context.ts';

/** How long a file the hub refused (413/507/400/409) waits before the same bytes are offered again. */
export const REFUSED_RETRY_MS = 6 * 3_600_000;

/**
 * That wait as a shared backoff rule (shared/failure.ts): the cap is the first wait, so every
 * refusal of the same bytes waits REFUSED_RETRY_MS again; the wait is fixed, it never doubles.
 */
export const REFUSED_BACKOFF: BackoffRule = { baseMs: REFUSED_RETRY_MS, capMs: REFUSED_RETRY_MS };

export interface StepErrorOutcome {
  /** The folder or the hub moved since the plan: the next round decides again. */
  again?: boolean;
  /** Counts as a failed step. */
  failed?: boolean;
  /** Remember this refusal under this path (state.ts `failures`). */
  refused?: { key: string; record: FailureRecord };
  issue?: EngineIssue;
  activity?: { path: string; direction: ActivityEntry['direction']; detail: string };
  /** Stops the round: the network, the key, a stop. */
  fatal?: Error;
}

/** The outcome of a step that threw `e`; `failures` holds the refusals recorded so far. */
export function stepError(step: Step, e: unknown, failures: Readonly<Record<string, FailureRecord>>, now: () => Date): StepErrorOutcome {
  const key = 'key' in step ? step.key : '';
  if (!(e instanceof HubError)) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
      // The folder changed under us; the next round sees the new truth.
      return { again: true };
    }
    if ((e as Error).name === 'AbortError') return { fatal: e as Error };
    return { failed: true, issue: { code: 'internal', message: `${key}: ${(e as Error).message}`, path: key } };
  }
  switch (e.kind) {
    case 'precondition':
    case 'hash_mismatch':
      // The hub or the file moved since we looked: decide again next round.
      return { again: true };
    case 'too_large':
    case 'quota':
    case 'bad_path':
    case 'conflict':
      return refusal(step, key, e, failures, now);
    case 'not_found':
      return { again: true };
    case 'auth':
    case 'forbidden':
      return { fatal: new RoundError('auth', `the hub refused the API key (${e.status}): ${e.message}`, 'Check the key (youlab-sync login) or ask for a new one.') };
    default:
      if (e.kind === 'network' || e.kind === 'server' || e.kind === 'rate_limited') return { failed: true, fatal: e };
      return { failed: true, issue: { code: 'internal', message: `${key}: ${e.message}`, path: key } };
  }
}

/** The hub refused the step for a reason retrying the same bytes cannot fix. */
function refusal(step: Step, key: string, e: HubError, failures: Readonly<Record<string, FailureRecord>>, now: () => Date): StepErrorOutcome {
  const up = step.kind === 'upload' || step.kind === 'conflict';
  const hash = step.kind === 'upload' ? step.hash : step.kind === 'conflict' ? step.local : undefined;
  const failKey = step.kind === 'conflict' ? step.copyKey : key;
  return {
    failed: true,
    ...(up ? { refused: { key: failKey, record: nextFailure(failures[failKey], { reason: e.kind, message: e.message, ...(hash ? { hash } : {}) }, now(), REFUSED_BACKOFF) } } : {}),
    issue: { code: issueCode(e.kind), message: `${failKey}: not synced: ${e.message}`, path: failKey },
    activity: { path: failKey, direction: up ? 'up' : 'down', detail: e.message },
  };
}

export function issueCode(code: string): EngineErrorCode {
  if (code === 'too_large' || code === 'quota' || code === 'bad_path') return code;
  if (code === 'conflict' || code === 'case_clash') return 'clash';
  return 'internal';
}
