// HTTP triggers of the KB sync. The router handed in already checked the API key and that the
// caller may act on :user_id; this file only validates input and maps outcomes to JSON.
// A round that does not end within `syncWaitMs` is answered 202 and followed at
// `GET .../sync/{round_id}` (sync-rounds.ts), so a big workspace is never cut by the hub's idle
// timeout (server/README.md "Knowledge-base sync").
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../../shared/protocol.ts';
import { OpenWebUIError } from './http.ts';
import { STATUS_PAGE_DEFAULT, STATUS_PAGE_MAX, type KbSync } from './kb-sync.ts';
import { FILE_SYNC_STATES, type FileSyncState } from './kb-types.ts';
import { SyncRounds, type RoundOutcome } from './sync-rounds.ts';

export const SyncRequestSchema = z
  .object({
    direction: z.enum(['to_openwebui', 'from_openwebui', 'bidirectional']).default('bidirectional'),
    /** Carry out the deletes the mass-delete guard held in the last round (`held` in GET .../status). */
    confirm_deletes: z.boolean().default(false),
  })
  .strict();

/** `GET .../status?offset=&limit=&state=failed,held`: one page, optionally of some states only. */
export const StatusQuerySchema = z
  .object({
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(STATUS_PAGE_MAX).default(STATUS_PAGE_DEFAULT),
    state: z
      .string()
      .optional()
      .transform((v) => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : []))
      .pipe(z.array(z.enum(FILE_SYNC_STATES as [FileSyncState, ...FileSyncState[]]))),
  })
  .strict();

export interface KbRouteDeps {
  /** Undefined when no Open WebUI is configured. */
  sync: KbSync | undefined;
  disabledReason?: string;
  openwebuiUrl?: string;
  /** Limits POST /sync (the hub's "sync" limiter: 60 per minute per user). */
  syncLimiter?: RequestHandler;
  version?: () => Promise<string | undefined>;
  /**
   * How long POST /sync waits for the round before answering 202 (default 10 s: above the
   * transport's retries of an unreachable Open WebUI, 1 + 2 + 4 s, so that still answers 503).
   */
  syncWaitMs?: number;
  /** Where 202 rounds are kept (default: a new in-memory registry). */
  rounds?: SyncRounds;
}

/** The code and message a failed round shows, in the API's error vocabulary. */
export function describeRoundError(e: unknown): { error: ErrorCode; message: string } {
  if (e instanceof OpenWebUIError && (e.kind === 'unavailable' || e.kind === 'unauthorized')) {
    return { error: 'openwebui_unavailable', message: `Open WebUI did not answer as expected: ${e.message}` };
  }
  // Open WebUI answered, but with an error or something that is not the route's answer (its web
  // page for a route this release lacks): its words, not a hub bug.
  // The message is the one `GET .../status` shows as `last_error`.
  if (e instanceof OpenWebUIError) return { error: 'openwebui_error', message: e.message };
  return { error: 'internal', message: 'the KB sync round failed; the hub log has the details' };
}

/** The hub's access check leaves the validated id in res.locals.userId. */
function userOf(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]): string {
  const fromAuth = (res.locals as { userId?: unknown }).userId;
  return typeof fromAuth === 'string' ? fromAuth : String(req.params.user_id);
}

/** The outcome if it comes within `ms`, else undefined. */
async function within(outcome: Promise<RoundOutcome>, ms: number): Promise<RoundOutcome | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([outcome, late]);
  } finally {
    clearTimeout(timer);
  }
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

  const rounds = deps.rounds ?? new SyncRounds({ describe: describeRoundError });
  const waitMs = deps.syncWaitMs ?? 10_000;

  router.post(`${base}/sync`, limiter, async (req, res, next) => {
    try {
      const parsed = SyncRequestSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        return send(res, 'bad_request', `invalid sync request: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      }
      if (!deps.sync) {
        return send(res, 'openwebui_unavailable', `Open WebUI sync is off: ${deps.disabledReason ?? 'not configured'}`);
      }
      const userId = userOf(req, res);
      const { direction, confirm_deletes: confirmDeletes } = parsed.data;
      const round = rounds.start(userId, direction, deps.sync.sync(userId, direction, { confirmDeletes }));
      const ended = await within(round.outcome, waitMs);
      if (!ended) {
        const statusUrl = `${req.baseUrl}${base.replace(':user_id', encodeURIComponent(userId))}/sync/${round.id}`;
        res.status(202).location(statusUrl).json({ round_id: round.id, status: 'running', status_url: statusUrl });
        return;
      }
      if (ended.ok) return void res.json(ended.summary);
      const failed = describeRoundError(ended.error);
      if (failed.error !== 'internal') return send(res, failed.error, failed.message);
      next(ended.error);
    } catch (e) {
      next(e);
    }
  });

  router.get(`${base}/sync/:round_id`, (req, res) => {
    const view = rounds.get(userOf(req, res), String(req.params.round_id));
    if (!view) return send(res, 'not_found', 'no such sync round here (rounds are kept 15 minutes after they end, by the hub instance that ran them)');
    res.json(view);
  });

  router.get(`${base}/status`, async (req, res, next) => {
    try {
      const userId = userOf(req, res);
      const query = StatusQuerySchema.safeParse(req.query);
      if (!query.success) {
        return send(res, 'bad_request', `invalid status query: ${query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
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
      const { offset, limit, state } = query.data;
      const st = await deps.sync.status(userId, { offset, limit, states: new Set(state) });
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
