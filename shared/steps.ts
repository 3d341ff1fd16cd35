// The step kinds of a sync round, one vocabulary for both pipelines: hub <-> local folder
// (app/sync/plan.ts) and workspace <-> knowledge base (server/openwebui/plan.ts). Each plans from
// the same decision table (shared/reconcile.ts, docs/SYNC-SPEC.md) and names its steps from this
// list; a pipeline uses the subset it needs and adds fields of its own.

/** Steps both pipelines take, named from the side that runs the round ("local" is its own replica). */
export const STEP_KINDS = [
  /** Send the local content to the other replica. */
  'upload',
  /** Fetch the other replica's content. */
  'download',
  /** Remove the path on the other replica (its content is kept in that replica's version store). */
  'delete-remote',
  /** Remove the path locally (its content is kept: client trash, hub version store). */
  'delete-local',
  /** Both hold the same bytes: record them as the base, move nothing. */
  'record-base',
  /** Gone on both sides: forget the base. */
  'drop-base',
  /** Both changed differently: keep both versions (docs/SYNC-SPEC.md, conflict copy). */
  'conflict',
  /** A conflict copy never gets one of its own: the other side's bytes replace it (the old go to the trash). */
  'replace-local',
  /** Move a local entry aside before anything else (file/folder clash, NFC/NFD twins). */
  'move-aside',
  /** Nothing can be done this round (a refusal, a clash the user must settle); reported, not retried in a loop. */
  'skip',
] as const;

export type StepKind = (typeof STEP_KINDS)[number];
