// Where the headless client's settings come from: flags over ~/.youlab-sync/config.yaml over defaults.
import { createHash } from 'node:crypto';
import { hostname, homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { durationMs, type ClientConfig } from './config.ts';
import type { EngineOptions } from './engine.ts';

export interface ClientFlags {
  server?: string;
  folder?: string;
  stateDir?: string;
  device?: string;
  /** Whose workspace (service keys); default: the key's own user. */
  user?: string;
}

export interface ResolvedOptions {
  server: string;
  folder: string;
  stateDir: string;
  device: string;
  intervalMs: number;
  debounceMs: number;
  watch: boolean;
  ignore: string[];
  user?: string;
}

/** Engine options from resolved settings: one mapping for the headless client and the desktop app. */
export function engineOptionsFrom(o: ResolvedOptions, apiKey: string, extra: { live?: boolean; bytesPerSecond?: number } = {}): EngineOptions {
  return {
    ...(o.user ? { userId: o.user } : {}),
    serverUrl: o.server,
    apiKey,
    folder: o.folder,
    stateDir: o.stateDir,
    device: o.device,
    ignore: o.ignore,
    intervalMs: o.intervalMs,
    debounceMs: o.debounceMs,
    live: (extra.live ?? true) && o.watch,
    ...(extra.bytesPerSecond && extra.bytesPerSecond > 0 ? { bytesPerSecond: extra.bytesPerSecond } : {}),
  };
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** Outside the synced folder, one per (server, folder) pair. */
export function defaultStateDir(server: string, folder: string): string {
  const id = createHash('sha256').update(`${new URL(server).origin}\n${folder}`).digest('hex').slice(0, 16);
  return join(homedir(), '.youlab-sync', 'state', id);
}

export function resolveOptions(flags: ClientFlags, config: ClientConfig): ResolvedOptions {
  const server = flags.server ?? config.server.url;
  if (!server) throw new UsageError('no hub URL: pass --server <url> or set server.url in ~/.youlab-sync/config.yaml');
  try {
    new URL(server);
  } catch {
    throw new UsageError(`--server ${server} is not a URL (example: http://127.0.0.1:8100)`);
  }
  const folderRaw = flags.folder ?? config.sync.local_folder;
  if (!folderRaw) throw new UsageError('no folder: pass --folder <dir> or set sync.local_folder in ~/.youlab-sync/config.yaml');
  const folder = resolve(expandHome(folderRaw));
  const stateDir = resolve(expandHome(flags.stateDir ?? defaultStateDir(server, folder)));
  const rel = relative(folder, stateDir);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new UsageError(`the state dir ${stateDir} must be outside the synced folder ${folder}`);
  }
  return {
    server,
    folder,
    stateDir,
    device: flags.device ?? config.sync.device ?? hostname(),
    intervalMs: Math.max(1000, durationMs(config.sync.interval)),
    debounceMs: durationMs(config.watch.debounce),
    watch: config.watch.enabled,
    ignore: config.ignore,
    ...(flags.user ? { user: flags.user } : {}),
  };
}
