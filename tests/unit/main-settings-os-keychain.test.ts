// The settings window's key path against the real OS keychain (Secret Service via keytar).
// scripts/test.sh provides a private D-Bus session with an unlocked gnome-keyring; without a
// session bus there is no Secret Service to talk to and the test says so.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { desktopPrefsPath } from '../../app/main/desktop-prefs.ts';
import { SettingsService } from '../../app/main/settings-service.ts';
import { createOsKeychain } from '../../app/sync/keychain.ts';
import { skipWithoutKeychain } from '../helpers/keychain.ts';

const skip = await skipWithoutKeychain();
const service = `youlab-sync-test-${randomBytes(4).toString('hex')}`;
const keychain = createOsKeychain(service);
let dir: string | undefined;

afterAll(async () => {
  if (!skip) await keychain.delete('https://hub.example.org').catch(() => false);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('settings with the real Secret Service', () => {
  it('stores the key in the keychain and reads it back; config.yaml never holds it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'youlab-main-oskeychain-'));
    const folder = join(dir, 'YouLab');
    await mkdir(folder);
    const configPath = join(dir, 'config.yaml');
    const settings = new SettingsService({ configPath, prefsPath: desktopPrefsPath(configPath), secrets: keychain, setStartAtLogin: () => {} });
    const key = `yl_live_${randomBytes(8).toString('hex')}`;
    const r = await settings.save({
      serverUrl: 'https://hub.example.org',
      apiKey: key,
      localFolder: folder,
      intervalSeconds: 30,
      debounceMs: 300,
      ignore: [],
      startAtLogin: false,
      openWebuiUrl: '',
    });
    expect(r).toEqual({ ok: true });
    expect(await keychain.get('https://hub.example.org')).toBe(key);
    expect(await readFile(configPath, 'utf8')).not.toContain(key);
    expect(await settings.view()).toMatchObject({ hasApiKey: true, firstRun: false });
    expect(await settings.isConfigured()).toBe(true);
    expect(await keychain.delete('https://hub.example.org')).toBe(true);
    expect(await settings.isConfigured()).toBe(false);
  });
});
