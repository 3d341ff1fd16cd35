// Keys and access against the real hub process: 401/403 across users, service keys, the keys CLI.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let alice: string;
let bob: string;
beforeAll(async () => {
  hub = await startHub();
  alice = await hub.createKey('alice', { label: 'laptop' });
  bob = await hub.createKey('bob');
});
afterAll(async () => {
  await hub?.stop();
});

const get = (path: string, key?: string): Promise<Response> => fetch(`${hub.url}${path}`, { headers: key ? auth(key) : {} });

describe('401/403 across users', () => {
  it('/healthz needs no key; everything else does', async () => {
    expect((await get('/healthz')).status).toBe(200);
    for (const path of ['/me', '/users/alice/workspace/files', '/users/alice/workspace/changes']) {
      const r = await get(path);
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: 'unauthorized' });
    }
  });

  it('401 for an unknown or malformed key, and the key never appears in the answer', async () => {
    const forged = alice.slice(0, -4) + 'AAAA';
    for (const k of [forged, 'ylk_0000000000000000_' + 'a'.repeat(43), 'nonsense']) {
      const r = await get('/me', k);
      expect(r.status).toBe(401);
      expect(await r.text()).not.toContain(k);
    }
    const basic = await fetch(`${hub.url}/me`, { headers: { authorization: `Basic ${alice}` } });
    expect(basic.status).toBe(401);
  });

  it("403 for another user's workspace, 400 for an invalid user id", async () => {
    expect(await (await get('/me', alice)).json()).toEqual({ user_id: 'alice' });
    const r = await get('/users/bob/workspace/files', alice);
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: 'forbidden' });
    const w = await fetch(`${hub.url}/users/bob/workspace/files/x.txt`, { method: 'PUT', headers: { ...auth(alice), 'if-none-match': '*' }, body: 'x' });
    expect(w.status).toBe(403);
    expect((await get('/users/.hidden/workspace/files', alice)).status).toBe(400);
    expect((await get('/users/bob/workspace/files', bob)).status).toBe(200);
  });

  it('a service key may act for any user', async () => {
    const svc = await hub.createKey(null, { service: true, label: 'ralph' });
    expect(await (await get('/me', svc)).json()).toEqual({ user_id: null, service: true });
    const w = await fetch(`${hub.url}/users/carol/workspace/files/from-ralph.txt`, {
      method: 'PUT',
      headers: { ...auth(svc), 'if-none-match': '*' },
      body: 'hi carol',
    });
    expect(w.status).toBe(200);
    expect(await readFile(join(hub.dataDir, 'carol', 'workspace', 'from-ralph.txt'), 'utf8')).toBe('hi carol');
    expect((await get('/users/alice/workspace/files', svc)).status).toBe(200);
  });
});

describe('keys CLI', () => {
  it('create prints only the key; keys are stored hashed', async () => {
    const r = await hub.cli(['keys', 'create', '--user', 'dave']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ylk_[0-9a-f]{16}_[A-Za-z0-9_-]+\n$/);
    const stored = await readFile(join(hub.dataDir, '.youlab-hub', 'keys.json'), 'utf8');
    expect(stored).not.toContain(r.stdout.trim());
    expect(stored).not.toContain(alice);
    const bad = await hub.cli(['keys', 'create', '--user', '../evil']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe('');
  });

  it('list shows id, label, user, service, created, revoked but never a key', async () => {
    const r = await hub.cli(['keys', 'list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; label: string; user_id: string | null; service: boolean; revoked: string | null }[];
    expect(rows.find((x) => x.label === 'laptop')).toMatchObject({ user_id: 'alice', service: false, revoked: null });
    expect(r.stdout).not.toContain(alice);
    expect(r.stdout).not.toMatch(/"hash"/);
    const table = await hub.cli(['keys', 'list']);
    expect(table.stdout.split('\n')[0]).toBe('id\tlabel\tuser\tservice\tcreated\trevoked');
    expect(table.stdout).not.toContain(alice);
  });

  it('concurrent keys create runs never lose a key (the keys file is updated under a lock)', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => hub.cli(['keys', 'create', '--user', `par${i}`])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const [i, r] of runs.entries()) {
      expect((await get('/me', r.stdout.trim())).status, `key of par${i}`).toBe(200);
    }
  });

  it('revoke takes effect on the running hub within seconds', async () => {
    const k = await hub.createKey('erin');
    expect((await get('/me', k)).status).toBe(200);
    const id = /^ylk_([0-9a-f]{16})_/.exec(k)![1]!;
    const r = await hub.cli(['keys', 'revoke', id]);
    expect(r.code).toBe(0);
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (Date.now() < deadline) {
      status = (await get('/me', k)).status;
      if (status === 401) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe(401);
    expect((await get('/me', alice)).status).toBe(200);
    expect((await hub.cli(['keys', 'revoke', 'ffffffffffffffff'])).code).not.toBe(0);
  });
});
