// The coordination layer a hub instance uses: in-process by default; shared through Redis
// when REDIS_URL is set, so several instances behind a load balancer act as one hub.
// This folder is the hub's lowest layer: the change feed (journal.ts, cursor.ts), the locks
// (mutex.ts, lock.ts) and Redis. It imports nothing from workspace/ or http/; the store
// (workspace/) and the routes (http/) build on it.
import type { Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { Logger } from '../log.ts';
import { ChangeJournal, type Journal } from './journal.ts';
import { LocalLocks, RedisLocks, type KeyedLock } from './lock.ts';
import { connectRedis, redactUrl, type RedisConnection } from './redis.ts';
import { RedisChangeJournal } from './redis-journal.ts';

export { CoordinationUnavailableError, LockTimeoutError } from './errors.ts';
export { LocalLocks, RedisLocks, type KeyedLock, type Lease } from './lock.ts';

export interface CoordinationConfig {
  redisUrl: string;
  redisPrefix: string;
  lockTtlMs: number;
}

export interface Coordination {
  /** 'local' (one process) or 'redis' (shared by all instances). */
  readonly mode: 'local' | 'redis';
  /** Per-user lock around each conditional write. */
  readonly writeLocks: KeyedLock;
  /** Per-user lock for the KB sync (key it by user id); separate keys from writeLocks. */
  readonly kbLocks: KeyedLock;
  readonly journal: Journal;
  /** A rate-limit store for one budget; undefined = express-rate-limit's memory store. */
  rateLimitStore(budget: string): Store | undefined;
  /** Resolves once Redis is connected and subscribed (at once in local mode). */
  readonly ready: Promise<void>;
  /** False while Redis is unreachable. */
  healthy(): boolean;
  /** Called when another instance changed a user's workspace. */
  onRemoteChange(listener: (userId: string) => void): void;
  close(): Promise<void>;
}

export function createCoordination(cfg: CoordinationConfig, log: Logger): Coordination {
  if (!cfg.redisUrl) {
    const locks = new LocalLocks();
    const kb = new LocalLocks();
    return {
      mode: 'local',
      writeLocks: locks,
      kbLocks: kb,
      journal: new ChangeJournal(),
      rateLimitStore: () => undefined,
      ready: Promise.resolve(),
      healthy: () => true,
      onRemoteChange: () => {},
      close: async () => {},
    };
  }
  const redis: RedisConnection = connectRedis({ url: cfg.redisUrl, prefix: cfg.redisPrefix, log });
  log.info({ redis: redactUrl(cfg.redisUrl), prefix: cfg.redisPrefix }, 'coordination through Redis');
  // Locks wait at most two ttls: long enough for any honest holder, short enough to answer.
  const lockOpts = { ttlMs: cfg.lockTtlMs, waitMs: Math.max(2 * cfg.lockTtlMs, 1000), log };
  const writeLocks = new RedisLocks(redis, lockOpts);
  const kbLocks = new RedisLocks(redis, { ...lockOpts, waitMs: 10 * 60_000 });
  const journal = new RedisChangeJournal(redis);
  return {
    mode: 'redis',
    writeLocks: {
      run: (key, fn) => writeLocks.run(`ws:${key}`, fn),
      close: () => writeLocks.close(),
    },
    kbLocks: {
      run: (key, fn) => kbLocks.run(`kb:${key}`, fn),
      close: () => kbLocks.close(),
    },
    journal,
    rateLimitStore: (budget) => {
      const store = new RedisStore({
        prefix: `${cfg.redisPrefix}rl:${budget}:`,
        sendCommand: (...args: string[]) => redis.call(args) as Promise<never>,
      });
      // Loaded eagerly by the constructor; a failure is retried on first use, never unhandled.
      store.incrementScriptSha.catch(() => {});
      store.getScriptSha.catch(() => {}); // likewise: retried on first use
      return store;
    },
    ready: Promise.all([redis.ready, journal.ready]).then(() => {}),
    healthy: () => redis.isReady(),
    onRemoteChange: (listener) => {
      journal.onNotify((userId, mine) => {
        if (!mine) listener(userId);
      });
    },
    async close() {
      journal.close();
      await Promise.allSettled([writeLocks.close(), kbLocks.close()]);
      await redis.close();
    },
  };
}
