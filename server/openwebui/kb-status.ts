// Pure: the per-path state `GET /users/{id}/workspace/status` shows (docs/SYNC-SPEC.md "Hub and
// knowledge base"), from the hub's KB state, the workspace listing and the rules, and one page of
// it with the counts. No I/O: kb-sync.ts reads the inputs.
import type { KbExclusion } from './exclude.ts';
import { FILE_SYNC_STATES, type FileStatus, type FileSyncState, type KbStatusCounts } from './kb-types.ts';
import { extensionAllowed } from './plan.ts';
import type { Failure, SyncState } from './state-schema.ts';

export interface StatusInput {
  state: SyncState;
  /** The workspace as listed now. */
  files: readonly { path: string; hash: string }[];
  exclusion: KbExclusion;
  extensions: readonly string[];
}

/** The rule that keeps a file of a type the KB leg does not send (RALPH_SYNC_EXTENSIONS). */
export function typeRule(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `type: .${name.slice(dot + 1).toLowerCase()} is not sent to the KB (RALPH_SYNC_EXTENSIONS)` : 'type: no extension (RALPH_SYNC_EXTENSIONS)';
}

/**
 * Open WebUI's own words from a recorded failure: the transport prefixes its errors with the
 * route and status (`api/v1/files/: 400 The content provided is empty…`), which say nothing to a user.
 */
export function openWebUIReason(message: string): string {
  return message.replace(/^api\/v1\/[^\s:]*:\s*(\d{3}\s+)?/, '').trim() || message;
}

function failedStatus(path: string, f: Failure): FileStatus {
  return {
    path,
    state: 'failed',
    hash: f.hash,
    reason: f.reason,
    message: openWebUIReason(f.message),
    side: f.side,
    attempts: f.attempts,
    failed_at: f.failed_at,
    next_retry_at: f.next_retry_at,
  };
}

/** One status per workspace path, plus the held deletes and failed downloads of paths the workspace does not have; path order. */
export function fileStatuses(input: StatusInput): FileStatus[] {
  const { state, exclusion, extensions } = input;
  const out: FileStatus[] = [];
  for (const f of input.files) {
    const base = state.files[f.path];
    const failure = state.failures[f.path];
    const pending = state.pending[f.path];
    const held = state.held[f.path];
    const rule = exclusion.ruleFor(f.path);
    if (held && (held.action === 'remove_from_openwebui' || (held.action === 'delete_in_workspace' && held.hash === f.hash))) {
      out.push({ path: f.path, state: 'held', hash: f.hash, action: held.action, message: held.reason, held_since: held.since, ...(held.rule ? { rule: held.rule } : {}) });
    } else if (rule !== undefined) {
      out.push({ path: f.path, state: 'ignored', hash: f.hash, rule });
    } else if (base && base.hash === f.hash) {
      out.push({ path: f.path, state: 'synced', hash: f.hash, openwebui_file_id: base.openwebui_file_id });
    } else if (failure && failure.side === 'to_openwebui' && failure.hash === f.hash) {
      out.push(failedStatus(f.path, failure));
    } else if (!extensionAllowed(f.path, extensions)) {
      out.push({ path: f.path, state: 'ignored', hash: f.hash, reason: 'unsupported_type', rule: typeRule(f.path) });
    } else if (pending && pending.hash === f.hash) {
      out.push({ path: f.path, state: 'processing', hash: f.hash, reason: 'processing', openwebui_file_id: pending.openwebui_file_id });
    } else {
      out.push({ path: f.path, state: 'pending', hash: f.hash });
    }
  }
  const listed = new Set(out.map((f) => f.path));
  for (const [path, h] of Object.entries(state.held)) {
    if (listed.has(path) || h.action === 'delete_in_workspace') continue;
    listed.add(path);
    const id = state.files[path]?.openwebui_file_id;
    out.push({ path, state: 'held', hash: h.hash, action: h.action, message: h.reason, held_since: h.since, ...(h.rule ? { rule: h.rule } : {}), ...(id ? { openwebui_file_id: id } : {}) });
  }
  for (const [path, f] of Object.entries(state.failures)) {
    if (f.side !== 'from_openwebui' || listed.has(path)) continue;
    out.push(failedStatus(path, f));
  }
  return out.sort((a, b) => a.path.localeCompare(b.path)); // the order status has always had
}

export interface StatusQuery {
  offset: number;
  limit: number;
  /** Only these states (all when absent or empty). */
  states?: ReadonlySet<FileSyncState>;
}

export interface StatusPage {
  counts: KbStatusCounts;
  total: number;
  offset: number;
  limit: number;
  next_offset: number | null;
  files: FileStatus[];
}

export function statusPage(all: readonly FileStatus[], q: StatusQuery): StatusPage {
  const counts = Object.fromEntries(FILE_SYNC_STATES.map((s) => [s, 0])) as KbStatusCounts;
  counts.total = all.length;
  for (const f of all) counts[f.state]++;
  const chosen = q.states && q.states.size > 0 ? all.filter((f) => q.states!.has(f.state)) : all;
  const files = chosen.slice(q.offset, q.offset + q.limit);
  const end = q.offset + files.length;
  return { counts, total: chosen.length, offset: q.offset, limit: q.limit, next_offset: end < chosen.length ? end : null, files };
}
