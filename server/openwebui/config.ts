// KB sync settings from the environment (names from the design: RALPH_OPENWEBUI_*, RALPH_SYNC_*).
import { z } from 'zod';
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
  prefix: string;
  extensions: string[];
  /** Hub user id -> Open WebUI user id or email; unmapped hub ids are Open WebUI user ids. */
  userMap: Record<string, string>;
  processTimeoutMs: number;
  retryBaseMs: number;
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
  const url = env.RALPH_OPENWEBUI_URL?.trim() || undefined;
  const apiKey = env.RALPH_OPENWEBUI_API_KEY?.trim() || undefined;
  const wanted = bool(env.RALPH_SYNC_TO_OPENWEBUI, url !== undefined);
  let disabledReason: string | undefined;
  if (!url) disabledReason = 'RALPH_OPENWEBUI_URL is not set';
  else if (!apiKey) disabledReason = 'RALPH_OPENWEBUI_API_KEY is not set';
  else if (!wanted) disabledReason = 'RALPH_SYNC_TO_OPENWEBUI is false';
  if (url) new URL(url); // refuse a malformed URL at start, not at the first sync
  const extensions = env.RALPH_SYNC_EXTENSIONS?.trim()
    ? env.RALPH_SYNC_EXTENSIONS.split(',').map((e) => e.trim().replace(/^\./, '').toLowerCase()).filter(Boolean)
    : [...DEFAULT_EXTENSIONS];
  return {
    url,
    apiKey,
    enabled: disabledReason === undefined,
    ...(disabledReason ? { disabledReason } : {}),
    intervalSec: num('RALPH_SYNC_INTERVAL', env.RALPH_SYNC_INTERVAL, 300, 0),
    debounceMs: num('RALPH_SYNC_DEBOUNCE_MS', env.RALPH_SYNC_DEBOUNCE_MS, 2000, 0),
    prefix: env.RALPH_SYNC_KNOWLEDGE_PREFIX?.trim() || 'workspace',
    extensions,
    userMap: parseUserMap(env.RALPH_OPENWEBUI_USER_MAP),
    processTimeoutMs: num('RALPH_SYNC_PROCESS_TIMEOUT_MS', env.RALPH_SYNC_PROCESS_TIMEOUT_MS, 20_000, 0),
    retryBaseMs: num('RALPH_SYNC_RETRY_BASE_MS', env.RALPH_SYNC_RETRY_BASE_MS, 60_000, 0),
  };
}
