// Every hub setting in one table: its env var, its flag and its default (the knowledge-base sync's
// in KB_CONFIG_TABLE below, same shape). server/README.md lists them all; `loadConfig` turns env +
// argv into a validated Config, server/openwebui/config.ts reads the KB ones.
import { resolve } from 'node:path';
import { z } from 'zod';

const MiB = 1024 * 1024;

export const CONFIG_TABLE = {
  port: { env: 'PORT', flag: '--port', default: 8100, doc: 'TCP port; 0 picks a free one' },
  host: { env: 'HOST', flag: '--host', default: '127.0.0.1', doc: 'interface to listen on' },
  dataDir: {
    env: 'RALPH_USER_DATA_DIR',
    flag: '--data-dir',
    default: './.youlab/hub',
    doc: 'workspaces live at <data-dir>/<user_id>/workspace; keys in <data-dir>/.youlab-hub/',
  },
  maxFileBytes: { env: 'RALPH_MAX_FILE_BYTES', flag: undefined, default: 10 * MiB, doc: 'largest file (413 above)' },
  maxWorkspaceBytes: {
    env: 'RALPH_MAX_WORKSPACE_BYTES',
    flag: undefined,
    default: 100 * MiB,
    doc: 'quota per workspace (507 above)',
  },
  rateLimitSyncPerMin: {
    env: 'RALPH_RATE_LIMIT_SYNC_PER_MIN',
    flag: undefined,
    default: 60,
    doc: 'sync triggers per user per minute',
  },
  rateLimitTransferPerMin: {
    env: 'RALPH_RATE_LIMIT_TRANSFER_PER_MIN',
    flag: undefined,
    default: 1200,
    doc: 'file-transfer requests (list, get, put, delete, changes, versions) per user per minute',
  },
  rateLimitExchangePerMin: {
    env: 'RALPH_RATE_LIMIT_EXCHANGE_PER_MIN',
    flag: undefined,
    default: 10,
    doc: 'sign-ins with Open WebUI (POST /auth/exchange) per client address per minute, per hub instance',
  },
  versionRetentionDays: {
    env: 'RALPH_VERSION_RETENTION_DAYS',
    flag: undefined,
    default: 30,
    doc: 'days a replaced or deleted version is kept',
  },
  versionMaxBytes: {
    env: 'RALPH_VERSION_MAX_BYTES',
    flag: undefined,
    default: 1024 * MiB,
    doc: "disk budget per user of the version store and the copies of announced contents; over it the oldest versions go first (logged, counted in youlab_versions_dropped_total); 0: no budget",
  },
  webhookUrl: {
    env: 'RALPH_WEBHOOK_URL',
    flag: undefined,
    default: '',
    doc: "Ralph's webhook: JSON batches of every announced change, signed (docs/AGENT.md); empty: off",
  },
  webhookSecret: {
    env: 'RALPH_WEBHOOK_SECRET',
    flag: undefined,
    default: '',
    doc: 'HMAC-SHA256 key the webhook batches are signed with; required with RALPH_WEBHOOK_URL',
  },
  webhookTimeoutMs: {
    env: 'RALPH_WEBHOOK_TIMEOUT_MS',
    flag: undefined,
    default: 10_000,
    doc: 'a webhook delivery not answered within this time is retried (backoff 1 s doubling to RALPH_WEBHOOK_RETRY_MAX_MS)',
  },
  webhookRetryMaxMs: {
    env: 'RALPH_WEBHOOK_RETRY_MAX_MS',
    flag: undefined,
    default: 60_000,
    doc: 'longest wait between two attempts of one webhook batch: how soon Ralph hears again after an outage',
  },
  logLevel: { env: 'LOG_LEVEL', flag: undefined, default: 'info', doc: 'fatal, error, warn, info, debug, trace or silent' },
  redisUrl: {
    env: 'REDIS_URL',
    flag: undefined,
    default: '',
    doc: 'redis://[user:pass@]host:port/db; set it to run several hub instances (shared rate limits, change feed, locks); empty: one process',
  },
  redisPrefix: {
    env: 'RALPH_REDIS_PREFIX',
    flag: undefined,
    default: 'youlab:',
    doc: 'prefix of every Redis key and channel the hub uses (several deployments can share one Redis)',
  },
  lockTtlMs: {
    env: 'RALPH_LOCK_TTL_MS',
    flag: undefined,
    default: 30_000,
    doc: 'lifetime of a Redis lock whose holder died; held locks are renewed every ttl/3',
  },
  requestTimeoutMs: {
    env: 'RALPH_REQUEST_TIMEOUT_MS',
    flag: undefined,
    default: 600_000,
    doc: 'longest time to receive a whole request (a slow or endless upload is cut and its temp file removed); 0: no limit',
  },
  idleTimeoutMs: {
    env: 'RALPH_IDLE_TIMEOUT_MS',
    flag: undefined,
    default: 120_000,
    doc: 'a connection on which nothing moves for this long is closed (above the 60 s long-poll cap); 0: never',
  },
  metrics: {
    env: 'RALPH_METRICS',
    flag: undefined,
    default: false,
    doc: 'true: serve Prometheus metrics at GET /metrics (service key required)',
  },
} as const;

/**
 * The knowledge-base sync's settings (names from the design: RALPH_OPENWEBUI_*, RALPH_SYNC_*), in
 * the same shape: server/openwebui/config.ts reads them with these defaults. Listed with the rest
 * in server/README.md (a test keeps the two in step).
 */
export const KB_CONFIG_TABLE = {
  url: { env: 'RALPH_OPENWEBUI_URL', default: '', doc: 'Open WebUI base URL; empty: KB sync off, the rest of the hub works' },
  apiKey: { env: 'RALPH_OPENWEBUI_API_KEY', default: '', doc: 'an Open WebUI admin API key (ENABLE_API_KEYS=true there)' },
  enabled: { env: 'RALPH_SYNC_TO_OPENWEBUI', default: 'true when a URL is set', doc: 'turn the KB sync on or off' },
  intervalSec: { env: 'RALPH_SYNC_INTERVAL', default: 300, doc: 'seconds between background KB rounds' },
  prefix: { env: 'RALPH_SYNC_KNOWLEDGE_PREFIX', default: 'workspace', doc: 'the KB of a user is named {prefix}-{user_id}' },
  debounceMs: {
    env: 'RALPH_SYNC_DEBOUNCE_MS',
    default: 100,
    doc: 'a KB round starts once the workspace has been quiet this long after a change',
  },
  debounceMaxMs: {
    env: 'RALPH_SYNC_DEBOUNCE_MAX_MS',
    default: 1000,
    doc: 'and at the latest this long after the first change of a burst that keeps going',
  },
  concurrency: {
    env: 'RALPH_SYNC_CONCURRENCY',
    default: 4,
    doc: 'uploads, processing waits and deletes one round sends to Open WebUI at once (one round per user at a time)',
  },
  syncWaitMs: {
    env: 'RALPH_SYNC_WAIT_MS',
    default: 10_000,
    doc: 'POST /sync answers the summary if the round ends within this time, else 202 with a round to follow',
  },
  extensions: { env: 'RALPH_SYNC_EXTENSIONS', default: 'text, office, PDF and code types', doc: 'comma list of the extensions sent to the KB' },
  processTimeoutMs: {
    env: 'RALPH_SYNC_PROCESS_TIMEOUT_MS',
    default: 20_000,
    doc: "how long a round waits for Open WebUI's processing of a file before leaving it pending",
  },
  retryBaseMs: { env: 'RALPH_SYNC_RETRY_BASE_MS', default: 60_000, doc: 'first backoff of a failed KB file (doubles, capped at 6 h)' },
  maxFileBytes: {
    env: 'RALPH_SYNC_MAX_KB_FILE_BYTES',
    default: 10 * MiB,
    doc: 'workspace files larger than this stay out of the KB (shown as ignored); 0: no limit',
  },
  userMap: {
    env: 'RALPH_OPENWEBUI_USER_MAP',
    default: '',
    doc: 'hub user -> Open WebUI user id or email (a=id,b=mail@x, or JSON), where they differ',
  },
} as const;

const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  dataDir: z.string().min(1),
  maxFileBytes: z.coerce.number().int().positive(),
  maxWorkspaceBytes: z.coerce.number().int().positive(),
  rateLimitSyncPerMin: z.coerce.number().int().positive(),
  rateLimitTransferPerMin: z.coerce.number().int().positive(),
  rateLimitExchangePerMin: z.coerce.number().int().positive(),
  versionRetentionDays: z.coerce.number().nonnegative(),
  versionMaxBytes: z.coerce.number().int().nonnegative(),
  webhookUrl: z.union([z.literal(''), z.string().regex(/^https?:\/\//, 'must start with http:// or https://')]),
  webhookSecret: z.string(),
  webhookTimeoutMs: z.coerce.number().int().min(100),
  webhookRetryMaxMs: z.coerce.number().int().min(100),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  redisUrl: z.union([z.literal(''), z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')]),
  redisPrefix: z.string().max(64),
  lockTtlMs: z.coerce.number().int().min(1000),
  requestTimeoutMs: z.coerce.number().int().nonnegative(),
  idleTimeoutMs: z.coerce.number().int().nonnegative(),
  metrics: z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1'),
});
export type Config = z.infer<typeof ConfigSchema>;
type Key = keyof typeof CONFIG_TABLE;

export class ConfigError extends Error {}

/** Flags win over env, env over defaults. Unknown flags are refused so typos do not go unnoticed. */
export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_TABLE) as [Key, (typeof CONFIG_TABLE)[Key]][]) {
    const fromEnv = env[spec.env];
    raw[key] = fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default;
  }
  const flags = new Map<string, Key>();
  for (const [key, spec] of Object.entries(CONFIG_TABLE) as [Key, (typeof CONFIG_TABLE)[Key]][]) {
    if (spec.flag) flags.set(spec.flag, key);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = flags.get(name);
    if (!key) throw new ConfigError(`unknown option ${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0] as Key | undefined;
    const where = key ? `${CONFIG_TABLE[key].flag ?? CONFIG_TABLE[key].env}` : 'config';
    throw new ConfigError(`invalid ${where}: ${issue?.message ?? 'bad value'}`);
  }
  if (parsed.data.webhookUrl && !parsed.data.webhookSecret) throw new ConfigError('RALPH_WEBHOOK_URL needs RALPH_WEBHOOK_SECRET (the batches are signed with it)');
  return { ...parsed.data, dataDir: resolve(parsed.data.dataDir) };
}
