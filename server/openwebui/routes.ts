// HTTP triggers of the KB sync. The router handed in already checked the API key and that the
// caller may act on :user_id; this file only validates input and maps outcomes to JSON.
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../../shared/protocol.ts';
import { OpenWebUIError } from './http.ts';
import type { KbSync } from './kb-sync.ts';

export const SyncRequestSchema = z
  .object({ direction: z.enum(['to_openwebui', 'from_openwebui', 'bidirectional']).default('bidirectional') })
  .strict();

export interface KbRouteDeps {
  /** Undefined when no Open WebUI is configured. */
  sync: KbSync | undefined;
  disabledReason?: string;
  openwebuiUrl?: string;
  /** Limits POST /sync (the hub's "sync" limiter: 60 per minute per user). */
  syncLimiter?: RequestHandler;
  version?: () => Promise<string | undefined>;
}

/** The hub's access check leaves the validated id in res.locals.userId. */
function userOf(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]): string {
  const fromAuth = (res.locals as { userId?: unknown }).userId;
  return typeof fromAuth === 'string' ? fromAuth : String(req.params.user_id);
}

function send(res: Parameters<RequestHandler>[1], code: ErrorCode, message: string): void {
  res.status(ERROR_STATUS[code]).json({ error: code, message });
}

/**
 * `base` is where `router` sits relative to `/users/:user_id/workspace`: '' when the router is
 * mounted there (the hub's plugin router), or the full prefix on a bare router.
 */
export function registerKbRoutes(router: Router, deps: KbRouteDeps, base = '/users/:user_id/workspace'): void {
  const limiter: RequestHandler = deps.syncLimiter ?? ((_req, _res, next) => next());

  router.post(`${base}/sync`, limiter, async (req, res, next) => {
    try {
      const parsed = SyncRequestSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        return send(res, 'bad_request', `invalid sync request: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      }
      if (!deps.sync) {
        return send(res, 'openwebui_unavailable', `Open WebUI sync is off: ${deps.disabledReason ?? 'not configured'}`);
      }
      const summary = await deps.sync.sync(userOf(req, res), parsed.data.direction);
      res.json(summary);
    } catch (e) {
      if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) {
        return send(res, 'openwebui_unavailable', `Open WebUI did not answer as expected: ${e.message}`);
      }
      next(e);
    }
  });

  router.get(`${base}/status`, async (req, res, next) => {
    try {
      const userId = userOf(req, res);
      if (!deps.sync) {
        return res.json({
          user_id: userId,
          openwebui: { configured: false, reason: deps.disabledReason ?? 'not configured' },
          knowledge_id: null,
          last_sync: null,
          files: [],
        });
      }
      const version = await deps.version?.().catch(() => undefined); // an unreachable Open WebUI is reported as no version, not as an error of this route
      const st = await deps.sync.status(userId);
      res.json({
        user_id: userId,
        openwebui: { configured: true, url: deps.openwebuiUrl, reachable: version !== undefined, version: version ?? null },
        ...st,
      });
    } catch (e) {
      next(e);
    }
  });
}
