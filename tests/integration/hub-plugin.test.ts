// The plugin extension point, in-process through createApp on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { KeyStore } from '../../server/auth/keys.ts';
import { silentLogger } from '../../server/log.ts';
import type { HubPluginContext } from '../../server/plugin.ts';
import { FsWorkspaceStore } from '../../server/workspace/fs-store.ts';
import { StoreError } from '../../server/store-error.ts';

let dir: string;
let server: Server;
let url: string;
let alice: string;
let store: FsWorkspaceStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-plugin-'));
  const keys = KeyStore.forDataDir(dir);
  alice = (await keys.create({ userId: 'alice' })).key;
  const log = silentLogger();
  store = new FsWorkspaceStore({ dataDir: dir, maxFileBytes: 1000, maxWorkspaceBytes: 10_000, versionRetentionDays: 30, log });
  const plugin = (ctx: HubPluginContext): void => {
    ctx.router.post('/sync', ctx.syncRateLimit, async (req, res) => {
      const body = req.body as { fail?: boolean };
      if (body?.fail) throw new StoreError('conflict', 'asked to fail');
      const files = await ctx.store.list(res.locals.userId!);
      res.json({ user: res.locals.userId, files: files.files.length, stateDir: ctx.store.stateDir(res.locals.userId!) });
    });
  };
  const app = createApp({ keys, store, log, limits: { maxFileBytes: 1000, rateLimitSyncPerMin: 2, rateLimitTransferPerMin: 100 }, plugins: [plugin] });
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await store?.close();
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const post = (user: string, body: string, key = alice): Promise<Response> =>
  fetch(`${url}/users/${user}/workspace/sync`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });

describe('hub plugins', () => {
  it('get a router behind auth, the user check, JSON parsing and JSON errors, plus the sync budget', async () => {
    expect((await fetch(`${url}/users/alice/workspace/sync`, { method: 'POST' })).status).toBe(401);
    expect((await post('bob', '{}')).status).toBe(403);
    const bad = await post('alice', '{oops');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request' });

    const ok = await post('alice', '{}');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ user: 'alice', files: 0, stateDir: join(dir, 'alice', '.hub', 'state') });
    expect(ok.headers.get('ratelimit-policy')).toMatch(/"sync"; q=2/);

    const failed = await post('alice', '{"fail":true}');
    expect(failed.status).toBe(409);
    expect(await failed.json()).toEqual({ error: 'conflict', message: 'asked to fail' });

    const limited = await post('alice', '{}');
    expect(limited.status).toBe(429); // third sync within the minute: budget of 2 spent
    expect(limited.headers.get('retry-after')).toBeTruthy();
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });

    // Sync triggers are not charged to the transfer budget.
    const list = await fetch(`${url}/users/alice/workspace/files`, { headers: { authorization: `Bearer ${alice}` } });
    expect(list.status).toBe(200);
    expect(list.headers.get('ratelimit')).toMatch(/"transfer"; r=99/);
  });
});
