// A path that failed to sync for a reason retrying the same bytes at once cannot fix (a refusal by
// the hub or by Open WebUI): one record and one backoff rule for both pipelines, stored as is in
// each one's state file (snake_case, times as ISO strings). A changed file (another hash) is tried
// again at once; the same bytes only after the backoff, so nothing loops.

export interface FailureRecord<Reason extends string = string> {
  /** Why it failed, as a short code (`too_large`, `quota`, `processing_failed`, ...). */
  reason: Reason;
  /** What to tell the user. */
  message: string;
  /** The content that failed; absent when it is not known (the file could not be read). */
  hash?: string;
  /** Failures of this same content in a row. */
  attempts: number;
  failed_at: string;
  /** When the same content is tried once more. */
  next_retry_at: string;
}

export interface BackoffRule {
  /** Wait after the first failure; doubles with each further one. */
  baseMs: number;
  /** Longest wait. */
  capMs: number;
}

/**
 * The record after one more failure at `now`: attempts count up while the content stays the same
 * (`sameContent`, by default an equal hash), and the wait doubles from `baseMs` up to `capMs`.
 */
export function nextFailure<Reason extends string>(
  previous: FailureRecord<Reason> | undefined,
  failed: { reason: Reason; message: string; hash?: string },
  now: Date,
  rule: BackoffRule,
  sameContent: (p: FailureRecord<Reason>) => boolean = (p) => p.hash === failed.hash,
): FailureRecord<Reason> {
  const attempts = previous && sameContent(previous) ? previous.attempts + 1 : 1;
  const delay = Math.min(rule.capMs, rule.baseMs * 2 ** (attempts - 1));
  return {
    reason: failed.reason,
    message: failed.message,
    ...(failed.hash !== undefined ? { hash: failed.hash } : {}),
    attempts,
    failed_at: now.toISOString(),
    next_retry_at: new Date(now.getTime() + delay).toISOString(),
  };
}

/** The failed content may be tried again: its wait is over, or the content is no longer what failed. */
export function retryDue(f: Pick<FailureRecord, 'hash' | 'next_retry_at'>, now: Date, currentHash?: string): boolean {
  if (currentHash !== undefined && f.hash !== undefined && currentHash !== f.hash) return true;
  return Date.parse(f.next_retry_at) <= now.getTime();
}
