// What a SyncEngine is given: the hub, the key, the folder and how it runs (engine.ts).
export interface EngineOptions {
  serverUrl: string;
  apiKey: string;
  folder: string;
  stateDir: string;
  device: string;
  ignore?: readonly string[];
  /** Safety-net rescan interval (default 30 s). */
  intervalMs?: number;
  /** Watcher debounce (default 300 ms). */
  debounceMs?: number;
  /** Watch the folder and follow the hub's change feed (default true; false for one-shot use). */
  live?: boolean;
  concurrency?: number;
  /** Bandwidth cap for transfers, bytes per second. */
  bytesPerSecond?: number;
  /** Rounds per sync before giving up on convergence (default 6). */
  maxRounds?: number;
  guardThreshold?: number;
  /** Long-poll wait on the change feed, seconds (default 25). */
  feedWaitSeconds?: number;
  /** Whose workspace to sync; default: the key's own user (GET /me). A service key must name one. */
  userId?: string;
  /** Whose filename rules apply (default: process.platform); tests pass 'win32' to run Windows' rules anywhere. */
  platform?: string;
}
