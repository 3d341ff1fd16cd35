// How the hub says no: every non-2xx answer (and every transport failure) as one typed HubError,
// so callers decide by kind, never by parsing messages.
import { ErrorBodySchema } from '../../shared/protocol.ts';

export type HubErrorKind =
  | 'auth'
  | 'forbidden'
  | 'not_found'
  | 'precondition'
  | 'too_large'
  | 'quota'
  | 'bad_path'
  | 'hash_mismatch'
  | 'conflict'
  | 'rate_limited'
  | 'network'
  | 'server'
  | 'protocol';

export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    /** For 429: how long the hub asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export function kindForStatus(status: number, code?: string): HubErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 412 || status === 428) return 'precondition';
  if (status === 413) return 'too_large';
  if (status === 507) return 'quota';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 400) return code === 'hash_mismatch' ? 'hash_mismatch' : code === 'bad_path' ? 'bad_path' : 'protocol';
  if (status >= 500) return 'server';
  return 'protocol';
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.ceil(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function errorFrom(status: number, body: string, retryAfter?: string | string[]): HubError {
  let code: string | undefined;
  let message = `HTTP ${status}`;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(body));
    if (parsed.success) {
      code = parsed.data.error;
      message = parsed.data.message;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  const kind = kindForStatus(status, code);
  return new HubError(kind, message, status, code, kind === 'rate_limited' ? (parseRetryAfter(retryAfter) ?? 1000) : undefined);
}

export function toNetworkError(e: unknown): Error {
  if (e instanceof HubError) return e;
  const err = e as Error & { code?: string };
  if (err.name === 'AbortError') return err;
  return new HubError('network', `hub unreachable: ${err.code ?? ''} ${err.message}`.trim());
}
