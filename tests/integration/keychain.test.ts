// The API key store on a REAL Secret Service (scripts/test.sh runs the suite inside
// dbus-run-session with an unlocked gnome-keyring), and the clear failure without one. Skipped
// with the reason where keytar (optional) is not installed; required under .ci/run.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountFor, createOsKeychain, KeychainUnavailableError } from '../../app/sync/keychain.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { makeClient, makeRoot, runCli } from '../helpers/client.ts';
import { skipWithoutKeychain } from '../helpers/keychain.ts';

const skip = await skipWithoutKeychain();
const NO_BUS = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/youlab-no-bus', DISPLAY: undefined, YOULAB_API_KEY: undefined };

describe.skipIf(skip)('keytar-backed store on a real Secret Service', () => {
  it('stores, reads back, replaces and deletes a secret', async () => {
    const store = createOsKeychain(`youlab-sync-test-${randomBytes(4).toString('hex')}`);
    const account = 'http://127.0.0.1:8100';
    expect(await store.get(account)).toBeUndefined();
    await store.set(account, 'first-secret');
    expect(await store.get(account)).toBe('first-secret');
    await store.set(account, 'second-secret');
    expect(await store.get(account)).toBe('second-secret');
    expect(await store.delete(account)).toBe(true);
    expect(await store.get(account)).toBeUndefined();
    expect(await store.delete(account)).toBe(false);
  });

  describe('youlab-sync login', () => {
    let hub: HubHandle;
    let root: { dir: string; cleanup(): Promise<void> };
    beforeAll(async () => {
      hub = await startHub();
      root = await makeRoot();
    });
    afterAll(async () => {
      await createOsKeychain().delete(accountFor(hub.url)).catch(() => false);
      await hub?.stop();
      await root?.cleanup();
    });

    it('checks the key with GET /me, stores it, and the client then runs without YOULAB_API_KEY', async () => {
      const key = await hub.createKey('kc');
      const c = await makeClient(root.dir, 'alpha', hub.url, key);
      const bad = await runCli(c.opts({ env: { YOULAB_API_KEY: undefined } }), ['login'], 'wrong-key\n');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/refused this key \(401\); nothing was stored/);
      expect(await createOsKeychain().get(accountFor(hub.url))).toBeUndefined();

      const ok = await runCli(c.opts({ env: { YOULAB_API_KEY: undefined } }), ['login'], `${key}\n`);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/stored the key for kc/);
      expect(ok.stdout + ok.stderr).not.toContain(key);
      expect(await createOsKeychain().get(accountFor(hub.url))).toBe(key);

      await c.write('via-keychain.txt', 'k');
      const r = await runCli(c.opts({ env: { YOULAB_API_KEY: undefined } }), ['--once']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    });
  });
});

describe('no Secret Service reachable', () => {
  it('the store fails with KeychainUnavailableError and its clear message (child process without a bus)', async () => {
    const root = await makeRoot();
    try {
      const opts = { server: 'http://127.0.0.1:9', key: '', folder: join(root.dir, 'f'), stateDir: join(root.dir, 's'), env: NO_BUS };
      const r = await runCli(opts, ['--once']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/No OS keychain is available to store the API key/);
      expect(r.stderr).toMatch(/Set YOULAB_API_KEY/);
      const login = await runCli(opts, ['login'], 'some-key\n');
      expect(login.code).toBe(1);
    } finally {
      await root.cleanup();
    }
  });

  it('KeychainUnavailableError names the cause and the way out', () => {
    const e = new KeychainUnavailableError(new Error('Cannot autolaunch D-Bus'));
    expect(e.name).toBe('KeychainUnavailableError');
    expect(e.message).toMatch(/YOULAB_API_KEY/);
    expect(e.message).toMatch(/Cause: Cannot autolaunch D-Bus/);
  });
});
