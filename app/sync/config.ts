// The client's configuration: ~/.youlab-sync/config.yaml in the shape of the original design,
// validated with zod. The API key is never stored here (OS keychain, or YOULAB_API_KEY).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/node/atomic-fs.ts';
import { validateIgnorePatterns } from '../../shared/ignore-rules.ts';

/** "30s", "500ms", "5m" or a number of seconds. */
const DurationSchema = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)?$/)]);

export function durationMs(v: z.infer<typeof DurationSchema>): number {
  if (typeof v === 'number') return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v)!;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

export const ClientConfigSchema = z.object({
  server: z
    .object({
      url: z.string().url().optional(),
    })
    .default({}),
  sync: z
    .object({
      local_folder: z.string().optional(),
      interval: DurationSchema.default('30s'),
      device: z.string().optional(),
    })
    .default({ interval: '30s' }),
  watch: z
    .object({
      enabled: z.boolean().default(true),
      debounce: DurationSchema.default('300ms'),
    })
    .default({ enabled: true, debounce: '300ms' }),
  ignore: z
    .array(z.string())
    .default([])
    .superRefine((patterns, ctx) => {
      for (const msg of validateIgnorePatterns(patterns)) ctx.addIssue({ code: 'custom', message: msg });
    }),
  start_at_login: z.boolean().default(false),
});
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
  if (raw && typeof raw === 'object' && 'server' in raw) {
    const server = (raw as { server?: Record<string, unknown> }).server;
    if (server && 'api_key' in server) {
      throw new Error(`${path}: server.api_key is not read; keep the key in the OS keychain (youlab-sync login) or YOULAB_API_KEY`);
    }
  }
  const parsed = ClientConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export async function saveConfig(config: ClientConfig, path = defaultConfigPath()): Promise<void> {
  const valid = ClientConfigSchema.parse(config);
  await writeFileAtomic(path, YAML.stringify(valid));
}
