// The one place the shell learns how to build a sync engine. The engine lives in app/sync and
// knows nothing of Electron; the shell only talks to it through SyncEngineApi. Options are
// resolved exactly as the headless client resolves them (app/sync/options.ts).
import type { ClientConfig } from '../sync/config.ts';
import { SyncEngine } from '../sync/engine.ts';
import { engineOptionsFrom, resolveOptions } from '../sync/options.ts';
import type { SyncEngineApi } from '../engine-api/types.ts';

export interface EngineFactoryOptions {
  config: ClientConfig;
  apiKey: string;
}

export type EngineFactory = (opts: EngineFactoryOptions) => Promise<SyncEngineApi>;

export const createEngine: EngineFactory = async ({ config, apiKey }) => {
  return new SyncEngine(engineOptionsFrom(resolveOptions({}, config), apiKey));
};
