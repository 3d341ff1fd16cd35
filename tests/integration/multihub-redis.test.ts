// Two real hub processes on loopback sharing one data dir and one private, real Redis
// (REDIS_URL): the change feed, cursors, conditional writes, agent writes and rate limits act
// as one hub; Redis going away gives a clear 503, not a hang.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';
import { startHubPair, type HubPair } from '../helpers/hub-pair.ts';
import { freePort, skipWithoutRedis, type RedisHandle } from '../helpers/redis.ts';

const sha = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

interface Change {
  path: string;
  hash: string | null;
  source?: string;
}
interface Changes {
  cursor: string;
  changes: Change[];
  reset?: boolean;
}

const skip = skipWithoutRedis();

describe.skipIf(skip)('two hub instances, one Redis, one data dir', () => {
  let redis: RedisHandle;
  let dataDir: string;
  let h1: HubHandle;
  let h2: HubHandle;
  let key: string;

  const base = (h: HubHandle, user = 'alice'): string => `${h.url}/users/${user}/workspace`;
  const list = async (h: HubHandle): Promise<{ cursor: string; files: { path: string; hash: string }[] }> => {
    const r = await fetch(`${base(h)}/files`, { headers: auth(key) });
    expect(r.status).toBe(200);
    return (await r.json()) as { cursor: string; files: { path: string; hash: string }[] };
  };
  const changes = async (h: HubHandle, since: string, wait = 0): Promise<Changes> => {
    const r = await fetch(`${base(h)}/changes?since=${encodeURIComponent(since)}&wait=${wait}`, { headers: auth(key) });
    expect(r.status).toBe(200);
    return (await r.json()) as Changes;
  };
  const put = (h: HubHandle, path: string, body: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`${base(h)}/files/${path}`, { method: 'PUT', headers: { ...auth(key), ...headers }, body });
  const seqOf = (cursor: string): number => Number(cursor.split(':')[1]);

  let pair: HubPair | undefined;
  beforeAll(async () => {
    pair = await startHubPair();
    ({ redis, dataDir, h1, h2 } = pair);
    key = await h1.createKey('alice');
  }, 60_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('a change written through instance 2 wakes a long poll on instance 1, and cursors work on both', async () => {
    const { cursor } = await list(h1);
    const t0 = Date.now();
    const poll = changes(h1, cursor, 30);
    // Let the long poll get parked on instance 1 before writing.
    await new Promise((r) => setTimeout(r, 300));
    const w = await put(h2, 'notes/a.md', 'hello from 2', { 'if-none-match': '*' });
    expect(w.status).toBe(200);
    const got = await poll;
    // Generous: a long poll that was not woken would take its full 30 s.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(got.reset).toBeUndefined();
    expect(got.changes).toEqual([expect.objectContaining({ path: 'notes/a.md', hash: sha('hello from 2'), source: 'client' })]);
    // The cursor instance 1 handed out is a position on instance 2 too (no reset, nothing new).
    const on2 = await changes(h2, got.cursor, 0);
    expect(on2.reset).toBeUndefined();
    expect(on2.changes).toEqual([]);
    expect(on2.cursor).toBe(got.cursor);
    // And one from instance 2's listing reads instance 1's writes.
    const c2 = (await list(h2)).cursor;
    expect((await put(h1, 'notes/b.md', 'from 1', { 'if-none-match': '*' })).status).toBe(200);
    const next = await changes(h2, c2, 10);
    expect(next.changes.map((c) => c.path)).toEqual(['notes/b.md']);
  });

  it('racing If-Match PUTs through both instances: exactly one wins each round, nothing lost', async () => {
    const first = await put(h1, 'race.txt', 'v0', { 'if-none-match': '*' });
    expect(first.status).toBe(200);
    let current = sha('v0');
    for (let round = 1; round <= 12; round++) {
      const a = `one-${round}`;
      const b = `two-${round}`;
      const [r1, r2] = await Promise.all([
        put(h1, 'race.txt', a, { 'if-match': `"${current}"` }),
        put(h2, 'race.txt', b, { 'if-match': `"${current}"` }),
      ]);
      expect([r1.status, r2.status].sort()).toEqual([200, 412]);
      const winner = r1.status === 200 ? a : b;
      const loser = r1.status === 200 ? r2 : r1;
      expect(((await loser.json()) as { error: string }).error).toBe('precondition_failed');
      for (const h of [h1, h2]) {
        const g = await fetch(`${base(h)}/files/race.txt`, { headers: auth(key) });
        expect(await g.text()).toBe(winner);
      }
      current = sha(winner);
    }
  });

  it('an agent write seen by both instances is announced once', async () => {
    const before = seqOf((await list(h1)).cursor);
    await mkdir(join(dataDir, 'alice', 'workspace', 'agent'), { recursive: true });
    await writeFile(join(dataDir, 'alice', 'workspace', 'agent', 'out.md'), 'written by the agent');
    let feed: Changes = { cursor: '', changes: [] };
    const deadline = Date.now() + 15_000;
    let since = `${(await list(h1)).cursor.split(':')[0]}:${before}`;
    while (Date.now() < deadline && !feed.changes.some((c) => c.path === 'agent/out.md')) {
      feed = await changes(h2, since, 2);
      since = feed.cursor;
    }
    expect(feed.changes).toContainEqual(expect.objectContaining({ path: 'agent/out.md', hash: sha('written by the agent'), source: 'agent' }));
    // Both watchers have had ample time to report it; the shared journal holds it once.
    await new Promise((r) => setTimeout(r, 1500));
    expect(seqOf((await list(h2)).cursor) - before).toBe(1);
  });

  it('metrics are off by default: /metrics answers 404', async () => {
    const r = await fetch(`${h1.url}/metrics`, { headers: auth(key) });
    expect(r.status).toBe(404);
  });

  it('Redis going away answers 503 promptly (not a hang); after it returns, the feed resets and writes work', async () => {
    const { cursor } = await list(h1);
    expect((await fetch(`${h1.url}/readyz`)).status).toBe(200);
    await redis.kill();
    const t0 = Date.now();
    const w = await put(h2, 'down.txt', 'x', { 'if-none-match': '*' });
    expect(w.status).toBe(503);
    expect(w.headers.get('retry-after')).toBe('5');
    expect(((await w.json()) as { error: string }).error).toBe('unavailable');
    const l = await fetch(`${base(h1)}/files`, { headers: auth(key) });
    expect(l.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await fetch(`${h1.url}/readyz`)).status).toBe(503);
    // Nothing half-done: the refused write left no file.
    const g = await fetch(`${base(h1)}/files/down.txt`, { headers: auth(key) });
    expect([404, 503]).toContain(g.status);

    await redis.start();
    const deadline = Date.now() + 20_000;
    let ok = false;
    while (Date.now() < deadline && !ok) {
      const r1 = await fetch(`${h1.url}/readyz`);
      const r2 = await fetch(`${h2.url}/readyz`);
      ok = r1.status === 200 && r2.status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ok).toBe(true);
    // Redis came back empty: the old cursor's epoch is gone, so the client is told to list again.
    const after = await changes(h2, cursor, 0);
    expect(after.reset).toBe(true);
    expect((await put(h2, 'down.txt', 'back', { 'if-none-match': '*' })).status).toBe(200);
    const again = await changes(h1, after.cursor, 5);
    expect(again.changes.map((c) => c.path)).toEqual(['down.txt']);
  }, 60_000);
});

describe.skipIf(skip)('start without Redis', () => {
  it('a REDIS_URL nobody answers ends the hub at start with a clear message, never the password', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'youlab-noredis-'));
    const err = await startHub({ dataDir, env: { REDIS_URL: `redis://ops:s3cret-pw@127.0.0.1:${port}` }, startTimeoutMs: 30_000 }).then(
      async (h) => void (await h.stop()),
      (e: unknown) => e as Error,
    );
    await rm(dataDir, { recursive: true, force: true });
    expect(err?.message).toMatch(/hub exited before listening \(code 1/);
    expect(err?.message).toContain(`cannot connect to Redis at redis://***:***@127.0.0.1:${port}`);
    expect(err?.message).not.toContain('s3cret-pw');
  });
});

describe.skipIf(skip)('shared rate limits', () => {
  let h1: HubHandle;
  let h2: HubHandle;

  let pair: HubPair | undefined;
  beforeAll(async () => {
    pair = await startHubPair({ RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '6' });
    ({ h1, h2 } = pair);
  }, 60_000);
  afterAll(async () => {
    await pair?.stop();
  });

  it('requests spread over both instances hit 429 at the shared count', async () => {
    const key = await h1.createKey('bob');
    const statuses: { hub: number; status: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const h = i % 2 === 0 ? h1 : h2;
      const r = await fetch(`${h.url}/users/bob/workspace/files`, { headers: auth(key) });
      statuses.push({ hub: i % 2, status: r.status });
      if (r.status === 429) expect(((await r.json()) as { error: string }).error).toBe('rate_limited');
      else await r.arrayBuffer();
    }
    // Per instance, each would have allowed 6 (10 in all); shared, exactly 6 pass.
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    expect(new Set(statuses.filter((s) => s.status === 429).map((s) => s.hub))).toEqual(new Set([0, 1]));
  });
});
