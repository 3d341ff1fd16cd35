// Builds the hub's Express app from its dependencies; no listen (tests drive it in-process).
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { authenticate, requireUserAccess } from './auth/middleware.ts';
import type { KeyStore } from './auth/keys.ts';
import { exchangeRateLimiter } from './auth/exchange-limit.ts';
import { exchangeRoute, keyRoutes, type ExchangeConfig } from './auth/key-routes.ts';
import { errorHandler, notFoundHandler } from './http/errors.ts';
import { refuseLargeBody } from './http/body-limit.ts';
import { createRateLimiters, type RateLimiters } from './http/rate-limit.ts';
import { CoordinationUnavailableError, LockTimeoutError } from './coordination/errors.ts';
import type { Logger } from './log.ts';
import { countRequests, metricsRoute } from './metrics/http.ts';
import type { HubMetrics } from './metrics/registry.ts';
import type { HubPlugin } from './plugin.ts';
import type { FsWorkspaceStore } from './workspace/fs-store.ts';
import { verifySchedulerFor, type VerifyScheduler } from './workspace/verify-walk.ts';
import { workspaceRoutes } from './http/workspace-routes.ts';
import { bulkRoutes } from './http/bulk-routes.ts';

export interface HubDeps {
  keys: KeyStore;
  store: FsWorkspaceStore;
  log: Logger;
  limits: {
    maxFileBytes: number;
    rateLimitSyncPerMin: number;
    rateLimitTransferPerMin: number;
    /** Sign-ins with Open WebUI per client address per minute; default 10. */
    rateLimitExchangePerMin?: number;
  };
  /** Where POST /auth/exchange asks who an Open WebUI token belongs to; absent: that route answers 404. */
  openWebUI?: ExchangeConfig;
  /** Built from `limits` when absent. */
  rateLimiters?: RateLimiters;
  plugins?: HubPlugin[];
  /** Counted when present; served at GET /metrics (service key only) when `serveMetrics`. */
  metrics?: HubMetrics;
  serveMetrics?: boolean;
  /** Redis health, for /readyz; absent = single process, always ready. */
  coordination?: { healthy(): boolean };
  /**
   * The scheduler of background verification walks that the workspace routes ask for after a
   * 304 (workspace/verify-walk.ts). Owned by whoever made it: buildHub (server/main.ts) makes it
   * and stops it on shutdown. When absent, createApp makes one for this app (in-process tests);
   * nobody stops that one, which is harmless: its only timers are unref'd deferrals, and a walk
   * asked for after store.close() starts nothing.
   */
  verifier?: VerifyScheduler;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** This request's id (X-Request-Id), also on every log line of the request. */
    requestId?: string;
    log?: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes a sane incoming X-Request-Id (a proxy's) or makes one; echoes it; a child logger carries it. */
function requestId(log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.locals.log = log.child({ reqId: id });
    res.setHeader('X-Request-Id', id);
    next();
  };
}

/** Redis down or a lock held too long elsewhere: 503 with Retry-After, the wire's usual JSON shape. */
function coordinationErrors(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (!(err instanceof CoordinationUnavailableError || err instanceof LockTimeoutError)) return next(err);
    (res.locals.log ?? log).warn({ err: err.message }, 'coordination unavailable');
    if (res.headersSent) return void res.destroy();
    res.setHeader('Retry-After', '5');
    res.status(503).json({ error: 'unavailable', message: err.message });
  };
}

function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const t0 = Date.now();
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'debug';
      // req.path only: never the query or headers (the key travels in a header).
      (res.locals.log ?? log)[level]({ method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - t0 }, 'request');
    });
    next();
  };
}

export function createApp(deps: HubDeps): Express {
  const { keys, store, log } = deps;
  const limiters =
    deps.rateLimiters ?? createRateLimiters(deps.limits, { onReject: (budget) => deps.metrics?.rateLimitRejections.inc({ budget }) });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestId(log));
  app.use(requestLog(log));
  if (deps.metrics) app.use(countRequests(deps.metrics));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // Readiness for a load balancer: this instance can reach Redis (always, without Redis).
  app.get('/readyz', (_req, res) => {
    const ok = deps.coordination?.healthy() ?? true;
    res.status(ok ? 200 : 503).json(ok ? { ok } : { ok, error: 'unavailable', message: 'Redis is unreachable' });
  });

  // Sign-in with Open WebUI comes before authentication: its caller has no hub key yet.
  const exchangeLimit = exchangeRateLimiter(deps.limits.rateLimitExchangePerMin ?? 10, () => deps.metrics?.rateLimitRejections.inc({ budget: 'exchange' }));
  app.use(exchangeRoute(keys, deps.openWebUI ?? { url: undefined, userMap: {} }, exchangeLimit, log));

  app.use(authenticate(keys));
  app.use(keyRoutes(keys, log));

  if (deps.metrics && deps.serveMetrics) app.get('/metrics', metricsRoute(deps.metrics));

  app.get('/me', (_req, res) => {
    const p = res.locals.principal!;
    res.json(p.service ? { user_id: null, service: true } : { user_id: p.userId });
  });

  const base = '/users/:user_id/workspace';
  const verifier = deps.verifier ?? verifySchedulerFor(store, store.opts.log);
  app.use(base, requireUserAccess, workspaceRoutes({ store, maxFileBytes: deps.limits.maxFileBytes, transferRateLimit: limiters.transfer, verifier }));
  app.use(base, requireUserAccess, bulkRoutes({ store, maxFileBytes: deps.limits.maxFileBytes, transferRateLimit: limiters.transfer, log }));

  for (const plugin of deps.plugins ?? []) {
    const router = express.Router({ mergeParams: true });
    router.use(refuseLargeBody(1024 * 1024), express.json({ limit: '1mb' }));
    app.use(base, requireUserAccess, router);
    plugin({ router, store, syncRateLimit: limiters.sync, transferRateLimit: limiters.transfer, log });
  }

  app.use(notFoundHandler);
  app.use(coordinationErrors(log));
  app.use(((err, req, res, next) => errorHandler(res.locals.log ?? log)(err, req, res, next)) as ErrorRequestHandler);
  return app;
}
