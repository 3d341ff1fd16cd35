// HTTP side of metrics: a middleware that counts every answered request (route template, not
// the raw path, so user ids and file names never become label values) and the /metrics route.
import type { Request, RequestHandler, Response } from 'express';
import { sendError } from '../http/errors.ts';
import type { HubMetrics } from './registry.ts';

const WORKSPACE_BASE = '/users/:user_id/workspace';

/** The matched route's template, e.g. `/users/:user_id/workspace/files/*path`; fixed words otherwise. */
export function routeLabel(req: Request, res: Response): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') {
    // baseUrl is reset when an error leaves the router, so the mount is told by the URL itself.
    return (req.originalUrl.startsWith('/users/') ? WORKSPACE_BASE : '') + route.path;
  }
  if (res.statusCode === 401 || res.statusCode === 403) return 'unauthenticated';
  return 'unmatched';
}

export function countRequests(metrics: HubMetrics): RequestHandler {
  return (req, res, next) => {
    const sock = req.socket;
    const read0 = sock.bytesRead;
    const written0 = sock.bytesWritten;
    res.on('finish', () => {
      const route = routeLabel(req, res);
      const status = String(res.statusCode);
      metrics.httpRequests.inc({ method: req.method, route, status });
      // Socket deltas cover bodies sent without Content-Length (chunked uploads); a body that
      // arrived with the headers is counted by its Content-Length.
      const declared = Number(req.headers['content-length'] ?? 0) || 0;
      metrics.bytesIn.inc({ route }, Math.max(declared, sock.bytesRead - read0));
      metrics.bytesOut.inc({ route }, Math.max(0, sock.bytesWritten - written0));
      if (res.statusCode === 412) metrics.conflicts.inc({ route });
      if (req.method === 'GET' && route === `${WORKSPACE_BASE}/files` && res.statusCode === 200) metrics.syncRounds.inc({ kind: 'list' });
    });
    next();
  };
}

/** GET /metrics: mounted after authentication; only service keys may read it. */
export function metricsRoute(metrics: HubMetrics): RequestHandler {
  return async (_req, res) => {
    if (!res.locals.principal?.service) return sendError(res, 'forbidden', 'metrics need a service key');
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(await metrics.registry.metrics());
  };
}
