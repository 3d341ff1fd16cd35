// Builds the hub's Open WebUI side from config: client, KB sync, scheduler and routes.
// With no Open WebUI configured only the routes exist (status says so, /sync answers 503).
import type { RequestHandler, Router } from 'express';
import type { WorkspaceStore } from '../workspace/types.ts';
import { OpenWebUIClient } from './client.ts';
import type { OpenWebUISyncConfig } from './config.ts';
import { KbSync, type KbSyncOptions } from './kb-sync.ts';
import type { KbSyncLogger } from './kb-types.ts';
import { registerKbRoutes } from './routes.ts';
import { KbScheduler } from './scheduler.ts';

export interface OpenWebUISyncDeps {
  config: OpenWebUISyncConfig;
  store: WorkspaceStore;
  router: Router;
  /** Route prefix relative to the router (see registerKbRoutes). */
  base?: string;
  syncLimiter?: RequestHandler;
  logger?: KbSyncLogger & { error?(obj: object, msg?: string): void };
  lock?: KbSyncOptions['lock'];
  onRoundStart?: KbSyncOptions['onRoundStart'];
}

export interface OpenWebUISyncHandle {
  sync: KbSync | undefined;
  client: OpenWebUIClient | undefined;
  stop(): Promise<void>;
}

export function installOpenWebUISync(deps: OpenWebUISyncDeps): OpenWebUISyncHandle {
  const { config, store, router, logger } = deps;
  if (!config.enabled || !config.url || !config.apiKey) {
    registerKbRoutes(router, {
      sync: undefined,
      ...(config.disabledReason ? { disabledReason: config.disabledReason } : {}),
      ...(deps.syncLimiter ? { syncLimiter: deps.syncLimiter } : {}),
    }, deps.base);
    return { sync: undefined, client: undefined, stop: async () => {} };
  }
  const client = new OpenWebUIClient({ url: config.url, apiKey: config.apiKey });
  const sync = new KbSync({
    client,
    store,
    prefix: config.prefix,
    extensions: config.extensions,
    userMap: config.userMap,
    processTimeoutMs: config.processTimeoutMs,
    concurrency: config.concurrency,
    retryBaseMs: config.retryBaseMs,
    maxFileBytes: config.maxFileBytes,
    ...(logger ? { logger } : {}),
    ...(deps.lock ? { lock: deps.lock } : {}),
    ...(deps.onRoundStart ? { onRoundStart: deps.onRoundStart } : {}),
  });
  const scheduler = new KbScheduler(sync, store, {
    intervalSec: config.intervalSec,
    debounceMs: config.debounceMs,
    debounceMaxMs: config.debounceMaxMs,
    onError: (user, err) => logger?.warn({ user, err: String(err) }, 'kb sync round failed'),
  });
  registerKbRoutes(router, {
    sync,
    openwebuiUrl: config.url,
    ...(deps.syncLimiter ? { syncLimiter: deps.syncLimiter } : {}),
    version: () => client.probeVersion(),
    syncWaitMs: config.syncWaitMs,
  }, deps.base);
  scheduler.start();
  return { sync, client, stop: () => scheduler.stop() };
}
