// Per-user rate limits (express-rate-limit; in memory, or in Redis when several hub instances
// share the budget through `store`): a "sync" budget for sync triggers and
// a "transfer" budget for every other workspace request. Keyed by the authenticated user id
// (the key id for service keys), so users never share a budget. Standard draft-8 RateLimit
// headers; Retry-After on 429.
import type { RequestHandler } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { sendError } from './errors.ts';

export interface RateLimiters {
  sync: RequestHandler;
  transfer: RequestHandler;
}

export interface RateLimitExtras {
  /** A shared store for this budget (Redis); default: this process's memory. */
  store?: (budget: 'sync' | 'transfer') => Store | undefined;
  /** Told about every 429 (metrics). */
  onReject?: (budget: 'sync' | 'transfer') => void;
}

export function createRateLimiter(name: 'sync' | 'transfer', perMinute: number, extras: RateLimitExtras = {}): RequestHandler {
  const store = extras.store?.(name);
  return rateLimit({
    ...(store ? { store } : {}),
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    // Keys are never IPs here, so the IP-related validations do not apply.
    validate: false,
    keyGenerator: (_req, res) => {
      const p = res.locals.principal;
      return p?.service ? `key:${p.keyId}` : `user:${p?.userId ?? 'anonymous'}`;
    },
    handler: (_req, res) => {
      extras.onReject?.(name);
      sendError(res, 'rate_limited', `too many ${name} requests; retry after ${String(res.getHeader('Retry-After') ?? 'a while')} s`);
    },
  });
}

export function createRateLimiters(
  cfg: { rateLimitSyncPerMin: number; rateLimitTransferPerMin: number },
  extras: RateLimitExtras = {},
): RateLimiters {
  return {
    sync: createRateLimiter('sync', cfg.rateLimitSyncPerMin, extras),
    transfer: createRateLimiter('transfer', cfg.rateLimitTransferPerMin, extras),
  };
}
