// Access matrix of the key routes (devices, provisioning, sign-in) x every kind of key, against
// the REAL hub process: a user sees and revokes only their own keys, only a service key manages
// other users' keys, secrets and hashes never come back, a revoked key is refused at once.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

/** The secret part of `ylk_<id>_<secret>`: base64url, so it may hold `_` itself (split('_').pop() would take a
 * short tail of it, which then turns up in any long log by chance). */
const secretOf = (key: string): string => key.split('_').slice(2).join('_');

const idOf = (key: string): string => /^ylk_([0-9a-f]{16})_/.exec(key)![1]!;
type Who = 'none' | 'bad' | 'revoked' | 'alice' | 'bob' | 'service';
const WHO: Who[] = ['none', 'bad', 'revoked', 'alice', 'bob', 'service'];

describe('key routes: every route x every kind of key', { timeout: 120_000 }, () => {
  let hub: HubHandle;
  const keys: Partial<Record<Who, string>> = {};

  beforeAll(async () => {
    hub = await startHub({ env: { LOG_LEVEL: 'debug' } });
    keys.alice = await hub.createKey('alice', { label: 'alice laptop' });
    keys.bob = await hub.createKey('bob', { label: 'bob laptop' });
    keys.service = await hub.createKey(null, { service: true, label: 'ralph' });
    keys.revoked = await hub.createKey('alice', { label: 'lost phone' });
    expect((await hub.cli(['keys', 'revoke', idOf(keys.revoked)])).code).toBe(0);
    keys.bad = `ylk_${randomBytes(8).toString('hex')}_${randomBytes(24).toString('base64url')}`;
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
  });

  function call(who: Who, method: string, path: string, body?: unknown) {
    const k = keys[who];
    const headers: Record<string, string> = { ...(k ? auth(k) : {}) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return rawRequest(hub.url, { method, path, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  }

  /** A spare alice key per attempt, so a revocation that passes does not change later rows. */
  const spare = async () => (await call('service', 'POST', '/users/alice/keys', { device: 'spare' })).json<{ key: string }>().key;

  const ROUTES: {
    name: string;
    expect: Record<Who, number>;
    run(who: Who): Promise<{ status: number; text: string }>;
  }[] = [
    {
      name: 'GET /me/keys',
      expect: { none: 401, bad: 401, revoked: 401, alice: 200, bob: 200, service: 403 },
      run: (who) => call(who, 'GET', '/me/keys'),
    },
    {
      name: "DELETE /me/keys/{alice's key}",
      expect: { none: 401, bad: 401, revoked: 401, alice: 204, bob: 404, service: 403 },
      run: async (who) => call(who, 'DELETE', `/me/keys/${idOf(await spare())}`),
    },
    {
      name: 'GET /users/alice/keys',
      expect: { none: 401, bad: 401, revoked: 401, alice: 403, bob: 403, service: 200 },
      run: (who) => call(who, 'GET', '/users/alice/keys'),
    },
    {
      name: 'POST /users/alice/keys',
      expect: { none: 401, bad: 401, revoked: 401, alice: 403, bob: 403, service: 201 },
      run: (who) => call(who, 'POST', '/users/alice/keys', { device: 'provisioned' }),
    },
    {
      name: "DELETE /users/alice/keys/{alice's key}",
      expect: { none: 401, bad: 401, revoked: 401, alice: 403, bob: 403, service: 204 },
      run: async (who) => call(who, 'DELETE', `/users/alice/keys/${idOf(await spare())}`),
    },
    {
      // No hub key is needed or looked at; this hub has no Open WebUI, so every caller gets the same 404.
      name: 'POST /auth/exchange (no Open WebUI configured)',
      expect: { none: 404, bad: 404, revoked: 404, alice: 404, bob: 404, service: 404 },
      run: (who) => call(who, 'POST', '/auth/exchange', { openwebui_token: 'sk-whatever', device: 'x' }),
    },
  ];

  it('each kind of key gets exactly its status on every key route; no secret or hash ever comes back', async () => {
    const wrong: string[] = [];
    const hashes = JSON.stringify(JSON.parse(await readFile(join(hub.dataDir, '.youlab-hub', 'keys.json'), 'utf8')));
    for (const route of ROUTES) {
      for (const who of WHO) {
        const r = await route.run(who);
        if (r.status !== route.expect[who]) wrong.push(`${route.name} as ${who}: ${r.status} ${r.text.slice(0, 120)}`);
        for (const k of Object.values(keys)) expect(r.text).not.toContain(secretOf(k!));
        for (const h of hashes.match(/[0-9a-f]{64}/g) ?? []) expect(r.text).not.toContain(h);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a device list holds only the caller’s live keys, marks the current one, and never crosses users', async () => {
    const mine = (await call('alice', 'GET', '/me/keys')).json<{ keys: { id: string; device: string; current: boolean; user_id: string; last_used: string | null }[] }>();
    expect(mine.keys.every((k) => k.user_id === 'alice')).toBe(true);
    expect(mine.keys.map((k) => k.id)).not.toContain(idOf(keys.revoked!));
    expect(mine.keys.map((k) => k.id)).not.toContain(idOf(keys.bob!));
    expect(mine.keys.filter((k) => k.current).map((k) => k.id)).toEqual([idOf(keys.alice!)]);
    expect(mine.keys.find((k) => k.current)).toMatchObject({ device: 'alice laptop' });
    expect(mine.keys.find((k) => k.current)!.last_used).toMatch(/^\d{4}-/);
    const bobs = (await call('bob', 'GET', '/me/keys')).json<{ keys: { id: string }[] }>();
    expect(bobs.keys.map((k) => k.id)).toEqual([idOf(keys.bob!)]);
    // Ralph's view of alice is the same set.
    const byService = (await call('service', 'GET', '/users/alice/keys')).json<{ keys: { id: string }[] }>();
    expect(byService.keys.map((k) => k.id).sort()).toEqual(mine.keys.map((k) => k.id).sort());
  });

  it('a key revoked from another device gets 401 on its very next request; a provisioned key works at once', async () => {
    const other = await hub.createKey('alice', { label: 'old laptop' });
    expect((await rawRequest(hub.url, { path: '/me', headers: auth(other) })).status).toBe(200);
    expect((await call('alice', 'DELETE', `/me/keys/${idOf(other)}`)).status).toBe(204);
    const after = await rawRequest(hub.url, { path: '/users/alice/workspace/files', headers: auth(other) });
    expect(after.status).toBe(401);
    expect((await call('alice', 'DELETE', `/me/keys/${idOf(other)}`)).status).toBe(404); // already gone

    const made = (await call('service', 'POST', '/users/carol/keys', { device: 'carol desktop' })).json<{ key: string; user_id: string; key_id: string }>();
    expect(made.user_id).toBe('carol');
    expect(idOf(made.key)).toBe(made.key_id);
    const me = await rawRequest(hub.url, { path: '/me', headers: auth(made.key) });
    expect(me.json()).toEqual({ user_id: 'carol' });
    expect((await rawRequest(hub.url, { path: '/users/alice/workspace/files', headers: auth(made.key) })).status).toBe(403);
  });

  it('bad input: malformed key ids, user ids and device names get clear 4xx answers', async () => {
    expect((await call('alice', 'DELETE', '/me/keys/not-a-key-id')).status).toBe(404);
    expect((await call('service', 'DELETE', '/users/alice/keys/zz')).status).toBe(404);
    expect((await call('service', 'GET', '/users/..%2Fetc/keys')).status).toBe(400);
    for (const device of ['', '   ', 'a'.repeat(101), 'line\nbreak', 42]) {
      const r = await call('service', 'POST', '/users/alice/keys', { device });
      expect(r.status, JSON.stringify(device)).toBe(400);
      expect(r.json<{ message: string }>().message).toMatch(/device/);
    }
    const junk = await rawRequest(hub.url, { method: 'POST', path: '/users/alice/keys', headers: { ...auth(keys.service!), 'content-type': 'application/json' }, body: '{nope' });
    expect(junk.status).toBe(400);
  });

  it('keys never appear in the hub log', () => {
    const log = hub.logs();
    for (const k of Object.values(keys)) expect(log).not.toContain(secretOf(k!));
  });
});
