// Two real hub instances sharing one data dir and one real Redis, as docs/DEPLOY.md runs them.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type HubHandle } from './hub.ts';
import { startRedis, type RedisHandle } from './redis.ts';

export interface HubPair {
  redis: RedisHandle;
  dataDir: string;
  h1: HubHandle;
  h2: HubHandle;
  /** Stops both hubs and Redis and removes the data dir. */
  stop(): Promise<void>;
}

/** `env` is added to both hubs' environment; each pair gets its own Redis key prefix. */
export async function startHubPair(env: Record<string, string> = {}): Promise<HubPair> {
  const redis = await startRedis();
  const dataDir = await mkdtemp(join(tmpdir(), 'youlab-hub-pair-'));
  const all = { REDIS_URL: redis.url, RALPH_REDIS_PREFIX: `t${randomBytes(3).toString('hex')}:`, ...env };
  const [h1, h2] = await Promise.all([startHub({ dataDir, env: all }), startHub({ dataDir, env: all })]);
  return {
    redis,
    dataDir,
    h1,
    h2,
    stop: async () => {
      await Promise.all([h1.stop(), h2.stop()]);
      await redis.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
