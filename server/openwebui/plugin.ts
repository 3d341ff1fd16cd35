// The Open WebUI sync as a hub plugin: its routes go on the hub's authenticated
// `/users/:user_id/workspace` router, its scheduler runs until the hub stops.
import type { HubPlugin } from '../plugin.ts';
import type { OpenWebUISyncConfig } from './config.ts';
import { installOpenWebUISync, type OpenWebUISyncDeps, type OpenWebUISyncHandle } from './index.ts';

export interface OpenWebUIPlugin {
  plugin: HubPlugin;
  /** Set once the hub has called the plugin. */
  handle(): OpenWebUISyncHandle | undefined;
  stop(): Promise<void>;
}

export function openWebUIPlugin(
  config: OpenWebUISyncConfig,
  extra: Pick<OpenWebUISyncDeps, 'lock' | 'onRoundStart'> = {},
): OpenWebUIPlugin {
  let handle: OpenWebUISyncHandle | undefined;
  return {
    plugin: (ctx) => {
      const log = ctx.log.child({ part: 'openwebui-sync' });
      handle = installOpenWebUISync({
        config,
        store: ctx.store,
        router: ctx.router,
        base: '',
        syncLimiter: ctx.syncRateLimit,
        logger: log,
        ...extra,
      });
      if (config.enabled) log.info({ url: config.url, prefix: config.prefix, intervalSec: config.intervalSec }, 'Open WebUI sync on');
      else log.info({ reason: config.disabledReason }, 'Open WebUI sync off');
    },
    handle: () => handle,
    stop: async () => {
      await handle?.stop();
    },
  };
}
