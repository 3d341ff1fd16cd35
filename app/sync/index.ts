// What shells (the Electron main process, the CLI) import from the engine.
export { SyncEngine, type EngineOptions } from './engine.ts';
export { loadConfig, saveConfig, defaultConfigPath, durationMs, ClientConfigSchema, type ClientConfig } from './config.ts';
export { resolveOptions, defaultStateDir, UsageError, type ClientFlags, type ResolvedOptions } from './options.ts';
export { accountFor, createOsKeychain, createMemoryKeychain, KeychainUnavailableError, type SecretStore } from './keychain.ts';
export { HubClient, type HubVersion } from './hub-client.ts';
export { HubError } from './hub-errors.ts';
export { RoundError } from './round-context.ts';
export type * from '../engine-api/types.ts';
