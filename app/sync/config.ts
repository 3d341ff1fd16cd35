// The client's configuration: ~/.youlab-sync/config.yaml in the shape of the original design,
// validated with zod. The API key is never stored here (OS keychain, or YOULAB_API_KEY).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/node/atomic-fs.ts';
import { validateIgnorePatterns } from '../../shared/ignore-rules.ts';
import { unknownKeyMessage } from './config-keys.ts';

/** "30s", "500ms", "5m" or a number of seconds. */
const DurationSchema = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)?$/)]);

export function durationMs(v: z.infer<typeof DurationSchema>): number {
  if (typeof v === 'number') return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v)!;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

// Strict objects: an unknown key is an error that names the right one (config-keys.ts).
const ServerSchema = z.strictObject({
  url: z.string().url().optional(),
});
const SyncSchema = z.strictObject({
  local_folder: z.string().optional(),
  interval: DurationSchema.default('30s'),
  device: z.string().optional(),
});
const WatchSchema = z.strictObject({
  enabled: z.boolean().default(true),
  debounce: DurationSchema.default('300ms'),
});

export const ClientConfigSchema = z.strictObject({
  server: ServerSchema.default({}),
  sync: SyncSchema.default({ interval: '30s' }),
  watch: WatchSchema.default({ enabled: true, debounce: '300ms' }),
  ignore: z
    .array(z.string())
    .default([])
    .superRefine((patterns, ctx) => {
      for (const msg of validateIgnorePatterns(patterns)) ctx.addIssue({ code: 'custom', message: msg });
    }),
  start_at_login: z.boolean().default(false),
});
/** The keys allowed at each level, for the unknown-key message. */
const ALLOWED_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(ClientConfigSchema.shape),
  server: Object.keys(ServerSchema.shape),
  sync: Object.keys(SyncSchema.shape),
  watch: Object.keys(WatchSchema.shape),
};
export type ClientConfig = z.infer<typeof ClientConfigSchema>;

export function defaultConfigPath(): string {
  return process.env.YOULAB_SYNC_CONFIG ?? join(homedir(), '.youlab-sync', 'config.yaml');
}

export async function loadConfig(path = defaultConfigPath()): Promise<ClientConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ClientConfigSchema.parse({});
    throw e;
  }
  const raw: unknown = YAML.parse(text) ?? {};
  const parsed = ClientConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.flatMap(issueMessages).join('; ')}`);
  return parsed.data;
}

function issueMessages(i: z.core.$ZodIssue): string[] {
  const at = i.path.join('.');
  if (i.code === 'unrecognized_keys') {
    return i.keys.map((k) => unknownKeyMessage(at ? `${at}.${k}` : k, ALLOWED_KEYS[at] ?? []));
  }
  return [`${at || '(root)'}: ${i.message}`];
}

export async function saveConfig(config: ClientConfig, path = defaultConfigPath()): Promise<void> {
  const valid = ClientConfigSchema.parse(config);
  await writeFileAtomic(path, YAML.stringify(valid));
}
