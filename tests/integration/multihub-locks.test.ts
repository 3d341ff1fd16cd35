// The per-user locks two hub instances share through a real Redis: the KB sync lock runs one
// user's rounds one at a time across instances, a held lock outlives its ttl by renewal, and
// the lock of a holder that died frees itself after the ttl.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoordination, type Coordination } from '../../server/coordination/index.ts';
import { connectRedis } from '../../server/coordination/redis.ts';
import { silentLogger } from '../../server/log.ts';
import { skipWithoutRedis, startRedis, type RedisHandle } from '../helpers/redis.ts';

const skip = skipWithoutRedis();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('Redis locks across instances', () => {
  let redis: RedisHandle;
  let a: Coordination;
  let b: Coordination;
  const prefix = `t${randomBytes(3).toString('hex')}:`;

  beforeAll(async () => {
    redis = await startRedis();
    // Two "instances": separate connections, same Redis and prefix.
    const cfg = { redisUrl: redis.url, redisPrefix: prefix, lockTtlMs: 1000 };
    a = createCoordination(cfg, silentLogger());
    b = createCoordination(cfg, silentLogger());
    await Promise.all([a.ready, b.ready]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it("never runs one user's KB sync on two instances at once; other users are not held up", async () => {
    let inside = 0;
    let maxInside = 0;
    const order: string[] = [];
    const round = (c: Coordination, name: string) =>
      c.kbLocks.run('alice', async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        order.push(`${name}+`);
        await sleep(40);
        order.push(`${name}-`);
        inside--;
      });
    let otherRan = false;
    const rounds = [];
    for (let i = 0; i < 5; i++) rounds.push(round(a, `a${i}`), round(b, `b${i}`));
    // Bob's lock is independent of alice's.
    rounds.push(b.kbLocks.run('bob', async () => void (otherRan = true)));
    await Promise.all(rounds);
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(20);
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, -1)).toBe(order[i + 1]!.slice(0, -1));
    expect(otherRan).toBe(true);
  });

  it('a lock held longer than its ttl is renewed, not stolen', async () => {
    let bGot = 0;
    let released = 0;
    const holder = a.kbLocks.run('carol', async () => {
      await sleep(2500); // 2.5 ttl
      released = Date.now();
    });
    await sleep(100);
    await b.kbLocks.run('carol', async () => {
      bGot = Date.now();
    });
    await holder;
    expect(bGot).toBeGreaterThanOrEqual(released);
  });

  it('the write lock and the KB lock of one user are separate', async () => {
    let both = false;
    await a.kbLocks.run('dave', async () => {
      await b.writeLocks.run('dave', async () => {
        both = true;
      });
    });
    expect(both).toBe(true);
  });

  it("a dead holder's lock frees itself after the ttl", async () => {
    // A third process that takes the lock the same way and then vanishes without releasing.
    const ghost = connectRedis({ url: redis.url, prefix, log: silentLogger() });
    await ghost.ready;
    expect(await ghost.call(['SET', `${prefix}lock:{kb:erin}`, 'ghost-token', 'NX', 'PX', '1000'])).toBe('OK');
    await ghost.close();
    const t0 = Date.now();
    await b.kbLocks.run('erin', async () => {});
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(500);
    expect(waited).toBeLessThan(5000);
  });
});
