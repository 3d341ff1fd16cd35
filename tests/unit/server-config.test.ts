import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_TABLE, ConfigError, KB_CONFIG_TABLE, loadConfig } from '../../server/config.ts';

describe('hub config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig([], {});
    expect(c).toEqual({
      port: 8100,
      host: '127.0.0.1',
      dataDir: resolve('./.youlab/hub'),
      maxFileBytes: 10 * 1024 * 1024,
      maxWorkspaceBytes: 100 * 1024 * 1024,
      rateLimitSyncPerMin: 60,
      rateLimitTransferPerMin: 1200,
      rateLimitExchangePerMin: 10,
      versionRetentionDays: 30,
      versionMaxBytes: 1024 * 1024 * 1024,
      webhookUrl: '',
      webhookSecret: '',
      webhookTimeoutMs: 10_000,
      webhookRetryMaxMs: 60_000,
      logLevel: 'info',
      redisUrl: '',
      redisPrefix: 'youlab:',
      lockTtlMs: 30_000,
      requestTimeoutMs: 600_000,
      idleTimeoutMs: 120_000,
      metrics: false,
    });
    expect(Object.keys(CONFIG_TABLE).sort()).toEqual(Object.keys(c).sort());
  });
  it('env over defaults, flags over env', () => {
    const c = loadConfig(['--port', '0', '--data-dir=/tmp/x'], { PORT: '9000', RALPH_USER_DATA_DIR: '/tmp/y', RALPH_MAX_FILE_BYTES: '5' });
    expect(c.port).toBe(0);
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.maxFileBytes).toBe(5);
    expect(loadConfig([], { PORT: '9000' }).port).toBe(9000);
  });
  it('a webhook URL without a secret is refused with a clear error (the batches must be signed)', () => {
    expect(() => loadConfig([], { RALPH_WEBHOOK_URL: 'http://127.0.0.1:9/hook' })).toThrow(/RALPH_WEBHOOK_SECRET/);
    expect(() => loadConfig([], { RALPH_WEBHOOK_URL: 'ftp://x', RALPH_WEBHOOK_SECRET: 's' })).toThrow(/RALPH_WEBHOOK_URL/);
    expect(loadConfig([], { RALPH_WEBHOOK_URL: 'http://127.0.0.1:9/hook', RALPH_WEBHOOK_SECRET: 's' }).webhookUrl).toBe('http://127.0.0.1:9/hook');
  });
  it('refuses bad values and unknown flags', () => {
    expect(() => loadConfig(['--port', 'abc'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--nope', '1'], {})).toThrow(/unknown option/);
    expect(() => loadConfig(['--port'], {})).toThrow(/needs a value/);
    expect(() => loadConfig([], { RALPH_MAX_WORKSPACE_BYTES: '-1' })).toThrow(/RALPH_MAX_WORKSPACE_BYTES/);
    expect(() => loadConfig([], { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});

describe('the one configuration table', () => {
  it('server/README.md lists every hub and knowledge-base setting', async () => {
    const readme = await readFile(new URL('../../server/README.md', import.meta.url), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    const envs = [...Object.values(CONFIG_TABLE), ...Object.values(KB_CONFIG_TABLE)].map((s) => s.env);
    expect(envs.filter((e) => !rows.has(e))).toEqual([]);
  });
});
