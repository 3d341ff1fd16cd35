// What a round works with and what it hands back: shared by the full round (round.ts), the quick
// round (quick-round.ts) and the executor that runs their steps (executor.ts).
import type { IgnoreMatcher } from '../../shared/ignore-rules.ts';
import type { LocalOs } from '../../shared/local-names.ts';
import type { ActivityEntry, EngineErrorCode, EngineIssue, EngineProgress } from '../engine-api/types.ts';
import type { HubClient } from './hub-client.ts';
import { HubError } from './hub-errors.ts';
import { StateDirBusyError } from './state-lock.ts';
import type { ConflictRecord, StateStore, SyncState } from './state.ts';
import type { Trash } from './trash.ts';

export type GuardAnswer = 'delete' | 'restore';

/** A failure that stops the round and needs the user or the network. */
export class RoundError extends Error {
  /** mass_delete: what the stopped round would have deleted, for the prompt. */
  deletes?: EngineIssue['deletes'];

  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RoundError';
  }
}

export interface RoundContext {
  folder: string;
  device: string;
  hub: HubClient;
  store: StateStore;
  state: SyncState;
  trash: Trash;
  ignore: IgnoreMatcher;
  /** Temp folder on the folder's filesystem, or undefined to put temps beside their target. */
  tmpDir?: string;
  concurrency?: number;
  /** The folder finds a name under another case (folder-probe.ts): case-only clashes are reported, not looped on. */
  caseInsensitive?: boolean;
  /** Whose filename rules the folder follows: names it cannot hold are skipped on download. */
  localOs?: LocalOs;
  guardThreshold?: number;
  /**
   * The user's answer to the mass-delete guard (round.ts `guard`): 'delete' applies the deletes it
   * stopped, 'restore' brings those files back from the side that still has them. A missing
   * folder still stops the round.
   */
  guardAnswer?: GuardAnswer;
  hashFile?: (abs: string) => Promise<string>;
  activity?: (a: ActivityEntry) => void;
  /** Files and bytes this round transfers, done so far and in all; told after planning and after each transfer. */
  progress?: (p: EngineProgress) => void;
  conflict?: (c: ConflictRecord) => void;
  /** Told about every path the engine itself writes or removes, so the watcher can ignore it. */
  ownWrite?: (rel: string) => void;
  now?: () => Date;
}

export interface RoundResult {
  uploaded: number;
  downloaded: number;
  deleted: number;
  conflicts: number;
  failed: number;
  /** Steps that changed a replica or were attempted. */
  work: number;
  /** Something needs another round (412, a file changing under us, a move-aside). */
  again: boolean;
  /** Files that changed while being read. */
  unstable: number;
  issues: EngineIssue[];
  cursor: string;
}

/** Any failure of a round as the RoundError the shell shows (an abort keeps its name). */
export function toRoundError(e: unknown): RoundError {
  if (e instanceof RoundError) return e;
  if (e instanceof StateDirBusyError) return new RoundError('internal', e.message);
  if ((e as Error)?.name === 'AbortError') return Object.assign(new RoundError('internal', 'stopped'), { name: 'AbortError' });
  if (e instanceof HubError) {
    switch (e.kind) {
      case 'auth':
        return new RoundError('auth', `the hub refused the API key (401): ${e.message}`, 'Check the key (youlab-sync login or YOULAB_API_KEY).');
      case 'forbidden':
        return new RoundError('auth', `the key may not use this workspace (403): ${e.message}`, 'Use a key of the workspace owner.');
      case 'network':
      case 'server':
        return new RoundError('network', e.message, 'The client keeps retrying with backoff.');
      case 'rate_limited':
        return new RoundError('rate_limited', `the hub keeps rate-limiting this client: ${e.message}`);
      case 'quota':
        return new RoundError('quota', e.message);
      default:
        return new RoundError('internal', `${e.kind}: ${e.message}`);
    }
  }
  const err = e as Error;
  return new RoundError('internal', err?.message ?? String(e));
}
