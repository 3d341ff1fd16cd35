// Main's account handlers (app/main/account-handlers.ts) against the REAL hub: the Devices list
// marks the key main uses, Disconnect revokes another device's key (which then gets 401) and
// refuses the current one, and sign-in errors come back as field messages. The keychain is the
// in-memory SecretStore (the OS keychain has its own test); the real Open WebUI sign-in is in
// openwebui-signin.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountHandlers } from '../../app/main/account-handlers.ts';
import { accountFor, createMemoryKeychain } from '../../app/sync/keychain.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

const idOf = (key: string): string => /^ylk_([0-9a-f]{16})_/.exec(key)![1]!;

describe('account handlers on a real hub', { timeout: 60_000 }, () => {
  let hub: HubHandle;
  let mine: string;
  let other: string;
  const secrets = createMemoryKeychain();
  const handlers = () =>
    accountHandlers({ storedKey: (u) => secrets.get(accountFor(u)), storeKey: (u, k) => secrets.set(accountFor(u), k), deviceName: () => 'test-box' });

  beforeAll(async () => {
    hub = await startHub();
    mine = await hub.createKey('ada', { label: 'ada-desktop' });
    other = await hub.createKey('ada', { label: 'old laptop' });
    await hub.createKey('bob', { label: 'bob laptop' });
    await secrets.set(accountFor(hub.url), mine);
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
  });

  it('lists only this user’s devices with this one marked; disconnects another; refuses to cut off itself', async () => {
    const h = handlers();
    const sender = { url: 'file:///x/settings.html', webContentsId: 1 };
    const list = await h['account:devices']({ serverUrl: hub.url }, sender);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    expect(list.devices.map((d) => [d.device, d.current])).toEqual([
      ['ada-desktop', true],
      ['old laptop', false],
    ]);

    expect(await h['account:disconnect']({ serverUrl: hub.url, keyId: idOf(other) }, sender)).toEqual({ ok: true });
    expect((await rawRequest(hub.url, { path: '/me', headers: auth(other) })).status).toBe(401);
    const self = await h['account:disconnect']({ serverUrl: hub.url, keyId: idOf(mine) }, sender);
    expect(self).toEqual({ ok: false, message: expect.stringMatching(/the device you are using/) });
    expect((await rawRequest(hub.url, { path: '/me', headers: auth(mine) })).status).toBe(200);
    const again = await h['account:disconnect']({ serverUrl: hub.url, keyId: idOf(other) }, sender);
    expect(again).toEqual({ ok: false, message: 'no such key among yours' });
  });

  it('sign-in errors name their field; a hub without Open WebUI says so; nothing is stored', async () => {
    const h = handlers();
    const sender = { url: 'file:///x/settings.html', webContentsId: 1 };
    const fresh = createMemoryKeychain();
    const h2 = accountHandlers({ storedKey: (u) => fresh.get(accountFor(u)), storeKey: (u, k) => fresh.set(accountFor(u), k) });
    expect(await h2['account:sign-in']({ serverUrl: 'hub', openWebuiUrl: '', openWebuiToken: 'sk-x' }, sender)).toMatchObject({ ok: false, field: 'serverUrl' });
    expect(await h2['account:sign-in']({ serverUrl: hub.url, openWebuiUrl: 'chat', openWebuiToken: 'sk-x' }, sender)).toMatchObject({ ok: false, field: 'openWebuiUrl' });
    expect(await h2['account:sign-in']({ serverUrl: hub.url, openWebuiUrl: '', openWebuiToken: ' ' }, sender)).toMatchObject({ ok: false, field: 'openWebuiToken' });
    const off = await h2['account:sign-in']({ serverUrl: hub.url, openWebuiUrl: '', openWebuiToken: 'sk-x' }, sender);
    expect(off).toEqual({ ok: false, message: expect.stringMatching(/sign-in with Open WebUI is not set up on this hub/) });
    const down = await h2['account:sign-in']({ serverUrl: 'http://127.0.0.1:9', openWebuiUrl: '', openWebuiToken: 'sk-x' }, sender);
    expect(down).toEqual({ ok: false, message: expect.stringMatching(/Cannot reach the hub/) });
    expect(await fresh.get(accountFor(hub.url))).toBeUndefined();
    // Devices without a stored key: a message, not a crash.
    expect(await h2['account:devices']({ serverUrl: hub.url }, sender)).toEqual({ ok: false, message: expect.stringMatching(/Sign in or save an API key/) });
    expect((await h['account:devices']({ serverUrl: 'not a url' }, sender)).ok).toBe(false);
  });
});
