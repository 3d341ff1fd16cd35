// The extension point other hub features (the Open WebUI sync) plug into.
import type { RequestHandler, Router } from 'express';
import type { Logger } from './log.ts';
import type { WorkspaceStore } from './workspace/types.ts';

export interface HubPluginContext {
  /**
   * Mounted at `/users/:user_id/workspace`, behind authentication, the user access check
   * (`res.locals.userId` holds the validated user id, `res.locals.principal` the key) and
   * JSON error handling (throw/next a StoreError or HttpError). JSON bodies are parsed.
   * Create it with `mergeParams` semantics already applied: `req.params.user_id` is available.
   */
  router: Router;
  store: WorkspaceStore;
  /** The per-user "sync" budget (RALPH_RATE_LIMIT_SYNC_PER_MIN) for sync triggers. */
  syncRateLimit: RequestHandler;
  /** The per-user "transfer" budget, for anything that moves files. */
  transferRateLimit: RequestHandler;
  log: Logger;
}

export type HubPlugin = (ctx: HubPluginContext) => void;
