// Graceful shutdown of a hub running with Redis: on SIGTERM an upload that finishes within the
// grace period is written whole, one that never finishes is cut off without leaving a temp
// file or a partial file, no lock stays behind in Redis, and the process exits 0.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../server/coordination/redis.ts';
import { silentLogger } from '../../server/log.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { skipWithoutRedis, startRedis, type RedisHandle } from '../helpers/redis.ts';

const skip = skipWithoutRedis();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A PUT whose body is sent in two halves; `finish()` sends the rest. */
function slowPut(url: string, path: string, key: string, body: Buffer): { finish(): void; result: Promise<number | 'aborted'> } {
  const u = new URL(url);
  const req = request({
    host: u.hostname,
    port: u.port,
    method: 'PUT',
    path: `/users/alice/workspace/files/${path}`,
    headers: { authorization: `Bearer ${key}`, 'if-none-match': '*', 'content-length': String(body.length) },
  });
  const result = new Promise<number | 'aborted'>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('aborted'));
  });
  req.write(body.subarray(0, body.length / 2));
  return { finish: () => req.end(body.subarray(body.length / 2)), result };
}

describe.skipIf(skip)('graceful shutdown with Redis', () => {
  let redis: RedisHandle;
  let dataDir: string;
  let hub: HubHandle;
  const prefix = `t${randomBytes(3).toString('hex')}:`;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = await mkdtemp(join(tmpdir(), 'youlab-shutdown-'));
    hub = await startHub({ dataDir, env: { REDIS_URL: redis.url, RALPH_REDIS_PREFIX: prefix } });
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes what completes in time, cuts off the rest cleanly, releases locks, exits 0', async () => {
    const key = await hub.createKey('alice');
    const done = Buffer.alloc(256 * 1024, 'a');
    const stuck = Buffer.alloc(256 * 1024, 'b');
    const a = slowPut(hub.url, 'done.bin', key, done);
    const b = slowPut(hub.url, 'stuck.bin', key, stuck);
    const tmp = join(dataDir, 'alice', '.hub', 'tmp');
    // Both uploads are streaming into tmp/ before the signal.
    for (let i = 0; i < 100 && (await readdir(tmp).catch(() => [])).length < 2; i++) await sleep(50);
    expect((await readdir(tmp)).length).toBe(2);

    const child = hub.process!;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await sleep(300);
    a.finish();
    expect(await a.result).toBe(200);
    expect(await b.result).toBe('aborted');
    expect(await exited).toBe(0);

    expect(await readdir(tmp)).toEqual([]);
    const ws = join(dataDir, 'alice', 'workspace');
    expect(await readdir(ws)).toEqual(['done.bin']);
    expect((await readFile(join(ws, 'done.bin'))).equals(done)).toBe(true);

    const r = connectRedis({ url: redis.url, prefix, log: silentLogger() });
    await r.ready;
    expect(await r.call(['KEYS', `${prefix}lock:*`])).toEqual([]);
    // The finished upload made it into the shared feed before the exit.
    expect(await r.call(['GET', `${prefix}feed:{alice}:seq`])).toBe('1');
    await r.close();
  }, 60_000);
});
