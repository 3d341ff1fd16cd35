// Sign in with Open WebUI against a REAL Open WebUI (0.12.x, whose GET /api/v1/auths/ refuses API
// keys) and the real hub and sync client: a user's Open WebUI API key becomes a hub key that syncs
// that user's workspace and nobody else's; another user's token never yields this user's key; the
// user map is respected; a wrong token is 401 and Open WebUI down is 502; the token never lands in
// the hub's log or data. Needs the venv of scripts/openwebui-install.sh; with
// YOULAB_REAL_OPENWEBUI=required (CI) a missing or failing Open WebUI fails the suite, elsewhere it skips.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import got from 'got';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountFor, createOsKeychain } from '../../app/sync/keychain.ts';
import { makeClient, makeRoot, runCli } from '../helpers/client.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';
import { realOpenWebUIInstalled, realOpenWebUIRequired, startRealOpenWebUI, type OpenWebUITarget, type OwuiUserHandle } from '../helpers/openwebui.ts';

interface Issued {
  key: string;
  user_id: string;
  key_id: string;
}

let target: OpenWebUITarget | undefined;
let hub: HubHandle | undefined;
let skipReason = '';
const users: Record<string, OwuiUserHandle & { apiKey: string }> = {};
const root = await makeRoot('youlab-signin-');

async function apiKeyOf(u: OwuiUserHandle): Promise<string> {
  // What the user does in Settings > Account > API keys > Create.
  const r = await got.post(`${target!.url}/api/v1/auths/api_key`, { headers: { authorization: `Bearer ${u.token}` } }).json<{ api_key: string }>();
  return r.api_key;
}

function exchange(token: string, device = 'laptop') {
  return rawRequest(hub!.url, {
    method: 'POST',
    path: '/auth/exchange',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openwebui_token: token, device }),
  });
}

beforeAll(async () => {
  if (!realOpenWebUIInstalled()) {
    if (realOpenWebUIRequired()) throw new Error('YOULAB_REAL_OPENWEBUI=required but no Open WebUI venv (run scripts/openwebui-install.sh)');
    skipReason = 'no Open WebUI venv here (scripts/openwebui-install.sh makes one)';
    return;
  }
  try {
    target = await startRealOpenWebUI();
  } catch (e) {
    if (realOpenWebUIRequired()) throw e;
    skipReason = `real Open WebUI did not start: ${(e as Error).message.split('\n')[0]}`;
    return;
  }
  for (const name of ['Alice', 'Bob', 'Carol', 'Dave']) {
    const u = await target.createUser(name);
    users[name] = { ...u, apiKey: await apiKeyOf(u) };
  }
  // Carol's hub id differs from her Open WebUI id (mapped by email); Dave's Open WebUI id is a hub
  // id that the map gives to another account, so Dave has no workspace here.
  const map = { 'carol-hub': users.Carol!.email.toUpperCase(), [users.Dave!.id]: 'someone-else@example.test' };
  hub = await startHub({
    env: {
      RALPH_OPENWEBUI_URL: target.url,
      RALPH_SYNC_TO_OPENWEBUI: 'false',
      RALPH_OPENWEBUI_USER_MAP: JSON.stringify(map),
      RALPH_RATE_LIMIT_EXCHANGE_PER_MIN: '1000',
      LOG_LEVEL: 'debug',
    },
  });
}, 300_000);

afterAll(async () => {
  await hub?.stop();
  await target?.stop();
  await root.cleanup();
});

describe('sign in with Open WebUI (real Open WebUI)', { timeout: 120_000 }, () => {
  it('an API key (refused by 0.12 on /auths/) becomes a hub key that syncs its own workspace and nobody else’s', async (ctx) => {
    if (!target) return ctx.skip(skipReason);
    const alice = users.Alice!;
    const denied = await got(`${target.url}/api/v1/auths/`, { headers: auth(alice.apiKey), throwHttpErrors: false });
    console.log(`[signin] Open WebUI ${target.version}: GET /api/v1/auths/ with an API key -> ${denied.statusCode}`);

    const r = await exchange(alice.apiKey, 'Alice’s laptop');
    expect(r.status, r.text).toBe(201);
    const issued = r.json<Issued>();
    expect(issued.user_id).toBe(alice.id);
    expect(issued.key).toMatch(new RegExp(`^ylk_${issued.key_id}_`));

    // The real client syncs with it, and the file lands in alice's workspace.
    const laptop = await makeClient(root.dir, 'alice-laptop', hub!.url, issued.key);
    await laptop.write('notes/hello.md', 'from the signed-in laptop');
    await laptop.sync();
    expect(await readFile(join(hub!.dataDir, alice.id, 'workspace', 'notes', 'hello.md'), 'utf8')).toBe('from the signed-in laptop');

    // Bob's workspace stays shut to it.
    const bobs = await rawRequest(hub!.url, { path: `/users/${users.Bob!.id}/workspace/files`, headers: auth(issued.key) });
    expect(bobs.status).toBe(403);
    const devices = await rawRequest(hub!.url, { path: '/me/keys', headers: auth(issued.key) });
    expect(devices.json<{ keys: { device: string; current: boolean }[] }>().keys).toEqual([expect.objectContaining({ device: 'Alice’s laptop', current: true })]);
  });

  it('a session token works too; another user’s token never yields this user’s key', async (ctx) => {
    if (!target) return ctx.skip(skipReason);
    const bySession = (await exchange(users.Alice!.token)).json<Issued>();
    expect(bySession.user_id).toBe(users.Alice!.id);
    for (const token of [users.Bob!.apiKey, users.Bob!.token]) {
      const r = await exchange(token);
      expect(r.status).toBe(201);
      const bob = r.json<Issued>();
      expect(bob.user_id).toBe(users.Bob!.id);
      expect(bob.user_id).not.toBe(users.Alice!.id);
      expect((await rawRequest(hub!.url, { path: `/users/${users.Alice!.id}/workspace/files`, headers: auth(bob.key) })).status).toBe(403);
    }
  });

  it('RALPH_OPENWEBUI_USER_MAP decides the hub user: mapped by email, and a hub id mapped elsewhere is never handed out', async (ctx) => {
    if (!target) return ctx.skip(skipReason);
    const carol = await exchange(users.Carol!.apiKey);
    expect(carol.status).toBe(201);
    expect(carol.json<Issued>().user_id).toBe('carol-hub');
    const dave = await exchange(users.Dave!.apiKey);
    expect(dave.status).toBe(403);
    expect(dave.json<{ message: string }>().message).toMatch(/no workspace on this hub/);
  });

  it('a wrong or revoked Open WebUI key is 401 with a clear message and issues nothing', async (ctx) => {
    if (!target) return ctx.skip(skipReason);
    const before = (await readFile(join(hub!.dataDir, '.youlab-hub', 'keys.json'), 'utf8')).length;
    for (const token of ['sk-0123456789abcdef0123456789abcdef', 'not-a-jwt', `${users.Alice!.token.slice(0, -4)}AAAA`]) {
      const r = await exchange(token);
      expect(r.status, token).toBe(401);
      expect(r.json()).toEqual({ error: 'unauthorized', message: expect.stringMatching(/Open WebUI did not accept this token/) });
    }
    // Alice makes a new API key in Open WebUI: the old one stops working for sign-in.
    const old = users.Alice!.apiKey;
    users.Alice!.apiKey = await apiKeyOf(users.Alice!);
    expect((await exchange(old)).status).toBe(401);
    expect((await readFile(join(hub!.dataDir, '.youlab-hub', 'keys.json'), 'utf8')).length).toBe(before);
  });

  it('youlab-sync login --openwebui: a refused token stores nothing; a good one puts the device key in the keychain and syncs', async (ctx) => {
    if (!target) return ctx.skip(skipReason);
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) return ctx.skip('no Secret Service (scripts/test.sh runs the suite inside dbus-run-session)');
    const bob = users.Bob!;
    const c = await makeClient(root.dir, 'bob-cli', hub!.url, '');
    const noKey = { env: { YOULAB_API_KEY: undefined } };
    try {
      const wrong = await runCli(c.opts(noKey), ['login', '--openwebui', target.url], 'sk-00000000000000000000000000000000\n');
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/Open WebUI did not accept this token.*nothing was stored/);
      expect(await createOsKeychain().get(accountFor(hub!.url))).toBeUndefined();

      const ok = await runCli(c.opts(noKey), ['login', '--openwebui', target.url], `${bob.apiKey}\n`);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`signed in as ${bob.id}`);
      expect(ok.stdout + ok.stderr).not.toContain(bob.apiKey);
      const stored = await createOsKeychain().get(accountFor(hub!.url));
      expect(stored).toMatch(/^ylk_/);
      const devices = (await rawRequest(hub!.url, { path: '/me/keys', headers: auth(stored!) })).json<{ keys: { device: string; current: boolean }[] }>();
      expect(devices.keys.find((k) => k.current)?.device).toBe('bob-cli');

      await c.write('from-cli.txt', 'signed in from the command line');
      const r = await runCli(c.opts(noKey), ['--once']);
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(join(hub!.dataDir, bob.id, 'workspace', 'from-cli.txt'), 'utf8')).toBe('signed in from the command line');
    } finally {
      await createOsKeychain().delete(accountFor(hub!.url)).catch(() => false);
    }
  });

  it('the Open WebUI tokens never reach the hub log or its data directory', async (ctx) => {
    if (!target) return ctx.skip(skipReason);
    const secrets = Object.values(users).flatMap((u) => [u.apiKey, u.token]);
    const log = hub!.logs();
    expect(log).toMatch(/key issued by open webui sign-in/);
    for (const s of secrets) expect(log).not.toContain(s);
    const files = (await readdir(hub!.dataDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    for (const f of files) {
      const text = await readFile(join(f.parentPath, f.name), 'utf8');
      for (const s of secrets) expect(text, f.name).not.toContain(s);
    }
  });
});

describe('sign in with Open WebUI: hub-side failures', { timeout: 60_000 }, () => {
  it('Open WebUI down is 502; bad bodies are 400; the per-address budget answers 429', async () => {
    const down = await startHub({ env: { RALPH_OPENWEBUI_URL: 'http://127.0.0.1:9', RALPH_SYNC_TO_OPENWEBUI: 'false', RALPH_RATE_LIMIT_EXCHANGE_PER_MIN: '3' } });
    try {
      const post = (body: string) => rawRequest(down.url, { method: 'POST', path: '/auth/exchange', headers: { 'content-type': 'application/json' }, body });
      const r = await post(JSON.stringify({ openwebui_token: 'sk-x', device: 'laptop' }));
      expect(r.status).toBe(502);
      expect(r.json()).toEqual({ error: 'openwebui_error', message: expect.stringMatching(/Open WebUI is unreachable/) });
      expect((await post(JSON.stringify({ openwebui_token: 'sk-x' }))).json<{ message: string }>().message).toMatch(/device/);
      expect((await post('{nope')).status).toBe(400);
      const limited = await post(JSON.stringify({ openwebui_token: 'sk-x', device: 'laptop' }));
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect(limited.json<{ error: string }>().error).toBe('rate_limited');
    } finally {
      await down.stop();
    }
  });
});
