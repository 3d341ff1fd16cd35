// KB sync settings from the environment; names, defaults and meanings are in the hub's one table
// (server/config.ts KB_CONFIG_TABLE).
import { z } from 'zod';
import { KB_CONFIG_TABLE as T } from '../config.ts';
import { DEFAULT_EXTENSIONS } from './plan.ts';

export interface OpenWebUISyncConfig {
  url: string | undefined;
  apiKey: string | undefined;
  /** False when no URL/key is set or RALPH_SYNC_TO_OPENWEBUI=false. */
  enabled: boolean;
  /** Why it is off, for the status endpoint. */
  disabledReason?: string;
  intervalSec: number;
  debounceMs: number;
  debounceMaxMs: number;
  /** Transfers to Open WebUI at once in one round. */
  concurrency: number;
  /** How long POST /sync waits for the round before it answers 202. */
  syncWaitMs: number;
  prefix: string;
  extensions: string[];
  /** Hub user id -> Open WebUI user id or email; unmapped hub ids are Open WebUI user ids. */
  userMap: Record<string, string>;
  processTimeoutMs: number;
  retryBaseMs: number;
  /** Workspace files larger than this stay out of the KB; 0: no limit. */
  maxFileBytes: number;
}

const bool = (v: string | undefined, dflt: boolean): boolean =>
  v === undefined || v === '' ? dflt : !/^(0|false|no|off)$/i.test(v.trim());

const num = (name: string, v: string | undefined, dflt: number, min = 0): number => {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}`);
  return n;
};

/** `{"hubId":"owuiId"}` or `hubId=owuiId,hub2=mail@x`. */
export function parseUserMap(raw: string | undefined): Record<string, string> {
  if (!raw || !raw.trim()) return {};
  if (raw.trim().startsWith('{')) return z.record(z.string(), z.string()).parse(JSON.parse(raw));
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const [k, v] = pair.split('=').map((s) => s.trim());
    if (!k || !v) throw new Error(`RALPH_OPENWEBUI_USER_MAP: bad entry '${pair}'`);
    out[k] = v;
  }
  return out;
}

export function loadOpenWebUIConfig(env: NodeJS.ProcessEnv = process.env): OpenWebUISyncConfig {
  const url = env[T.url.env]?.trim() || undefined;
  const apiKey = env[T.apiKey.env]?.trim() || undefined;
  const wanted = bool(env[T.enabled.env], url !== undefined);
  let disabledReason: string | undefined;
  if (!url) disabledReason = `${T.url.env} is not set`;
  else if (!apiKey) disabledReason = `${T.apiKey.env} is not set`;
  else if (!wanted) disabledReason = `${T.enabled.env} is false`;
  if (url) new URL(url); // refuse a malformed URL at start, not at the first sync
  const listed = env[T.extensions.env]?.trim();
  const extensions = listed ? listed.split(',').map((e) => e.trim().replace(/^\./, '').toLowerCase()).filter(Boolean) : [...DEFAULT_EXTENSIONS];
  return {
    url,
    apiKey,
    enabled: disabledReason === undefined,
    ...(disabledReason ? { disabledReason } : {}),
    intervalSec: num(T.intervalSec.env, env[T.intervalSec.env], T.intervalSec.default, 0),
    debounceMs: num(T.debounceMs.env, env[T.debounceMs.env], T.debounceMs.default, 0),
    debounceMaxMs: num(T.debounceMaxMs.env, env[T.debounceMaxMs.env], T.debounceMaxMs.default, 0),
    concurrency: Math.floor(num(T.concurrency.env, env[T.concurrency.env], T.concurrency.default, 1)),
    syncWaitMs: num(T.syncWaitMs.env, env[T.syncWaitMs.env], T.syncWaitMs.default, 0),
    prefix: env[T.prefix.env]?.trim() || T.prefix.default,
    extensions,
    userMap: parseUserMap(env[T.userMap.env]),
    processTimeoutMs: num(T.processTimeoutMs.env, env[T.processTimeoutMs.env], T.processTimeoutMs.default, 0),
    retryBaseMs: num(T.retryBaseMs.env, env[T.retryBaseMs.env], T.retryBaseMs.default, 0),
    maxFileBytes: num(T.maxFileBytes.env, env[T.maxFileBytes.env], T.maxFileBytes.default, 0),
  };
}
