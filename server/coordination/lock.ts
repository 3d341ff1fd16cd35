// Per-key mutual exclusion for sections that must not run twice at once: a user's conditional
// write (check If-Match, version, rename) and a user's KB sync. `LocalLocks` holds within one
// process; `RedisLocks` holds across every hub instance sharing the Redis.
//
// The Redis lock is the usual single-instance pattern: SET key <random token> NX PX ttl, renewed
// every ttl/3 while held, released only by its owner (compare-and-delete in Lua). If the holder
// dies, the lock frees itself after ttl. Callers in one process queue on a local mutex first, so
// Redis only ever sees one contender per process and key.
import { randomBytes } from 'node:crypto';
import { KeyedMutex } from './mutex.ts';
import type { Logger } from '../log.ts';
import { CoordinationUnavailableError, LockTimeoutError } from './errors.ts';
import type { RedisConnection } from './redis.ts';

/** Handed to the locked section; `lost` turns true when the lock could not be renewed. */
export interface Lease {
  readonly lost: boolean;
  /** Throws when the lock was lost: call before an irreversible step. */
  assertHeld(): void;
}

/** Same shape as KeyedMutex.run, so either can be passed where a lock is wanted. */
export interface KeyedLock {
  run<T>(key: string, fn: (lease: Lease) => Promise<T>): Promise<T>;
  /** Releases whatever is held and refuses new work (shutdown). */
  close(): Promise<void>;
}

const HELD: Lease = { lost: false, assertHeld: () => {} };

export class LocalLocks implements KeyedLock {
  private readonly mutex = new KeyedMutex();
  run<T>(key: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
    return this.mutex.run(key, () => fn(HELD));
  }
  async close(): Promise<void> {}
}

export interface RedisLockOptions {
  /** Lock lifetime without renewal; the holder renews every ttl/3. */
  ttlMs: number;
  /** Give up waiting for a lock after this long (LockTimeoutError). */
  waitMs: number;
  log: Logger;
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export class RedisLocks implements KeyedLock {
  private readonly local = new KeyedMutex();
  private readonly held = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly opts: RedisLockOptions,
  ) {}

  private redisKey(key: string): string {
    return `${this.redis.prefix}lock:{${key}}`;
  }

  run<T>(key: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      if (this.closed) throw new CoordinationUnavailableError('the hub is shutting down; try again shortly');
      const rk = this.redisKey(key);
      const token = await this.acquire(key, rk);
      let lost = false;
      const lease: Lease = {
        get lost() {
          return lost;
        },
        assertHeld: () => {
          if (lost) throw new CoordinationUnavailableError('the hub lost its lock on this workspace; nothing was written, try again');
        },
      };
      const renew = setInterval(
        () => {
          this.redis.eval(RENEW, [rk], [token, String(this.opts.ttlMs)]).then(
            (r) => {
              if (r !== 1) lost = true;
            },
            () => {
              // Redis unreachable: the lock may expire under us; the section checks `lost` before committing.
              lost = true;
            },
          );
        },
        Math.max(50, Math.floor(this.opts.ttlMs / 3)),
      );
      renew.unref();
      try {
        return await fn(lease);
      } finally {
        clearInterval(renew);
        this.held.delete(rk);
        await this.redis.eval(RELEASE, [rk], [token]).catch((err: unknown) => {
          // It expires by itself after ttl.
          this.opts.log.warn({ err: String(err), lock: key }, 'lock not released; it expires after its ttl');
        });
      }
    });
  }

  private async acquire(key: string, rk: string): Promise<string> {
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + this.opts.waitMs;
    let delay = 5;
    for (;;) {
      const r = await this.redis.call(['SET', rk, token, 'NX', 'PX', String(this.opts.ttlMs)]);
      if (r === 'OK') {
        this.held.set(rk, token);
        return token;
      }
      if (Date.now() >= deadline || this.closed) throw new LockTimeoutError(key);
      // Jittered backoff: another instance holds it, usually for a few milliseconds.
      await new Promise((res) => setTimeout(res, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.held].map(([rk, token]) => this.redis.eval(RELEASE, [rk], [token])));
    this.held.clear();
  }
}
