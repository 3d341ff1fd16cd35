// Launch routing: one instance only, first run opens Settings, later runs start in the tray;
// start at login through the OS's own mechanism.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { desktopPrefsPath } from '../../app/main/desktop-prefs.ts';
import { applyStartAtLogin } from '../../app/main/login-item.ts';
import { SettingsService } from '../../app/main/settings-service.ts';
import { acquireSingleInstance, initialWindow, secondLaunchWindow, type SingleInstanceApp } from '../../app/main/startup.ts';
import { createMemoryKeychain } from '../../app/sync/keychain.ts';

function fakeApp(lock: boolean) {
  const listeners: Array<() => void> = [];
  const app = {
    requestSingleInstanceLock: vi.fn(() => lock),
    on: vi.fn((_e: 'second-instance', l: () => void) => listeners.push(l)),
    quit: vi.fn(),
  } satisfies SingleInstanceApp;
  return { app, listeners };
}

describe('single instance', () => {
  it('the first instance keeps running and hears about later launches', () => {
    const { app, listeners } = fakeApp(true);
    const onSecond = vi.fn();
    expect(acquireSingleInstance(app, onSecond)).toBe(true);
    expect(app.quit).not.toHaveBeenCalled();
    listeners.forEach((l) => l());
    expect(onSecond).toHaveBeenCalledTimes(1);
  });

  it('a second instance quits at once', () => {
    const { app } = fakeApp(false);
    const onSecond = vi.fn();
    expect(acquireSingleInstance(app, onSecond)).toBe(false);
    expect(app.quit).toHaveBeenCalledTimes(1);
    expect(app.on).not.toHaveBeenCalled();
  });
});

describe('first-run routing', () => {
  it('opens Settings until folder and key are set, then starts in the tray', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'youlab-main-startup-'));
    try {
      const configPath = join(dir, 'config.yaml');
      const secrets = createMemoryKeychain();
      const settings = new SettingsService({ configPath, prefsPath: desktopPrefsPath(configPath), secrets, setStartAtLogin: () => {} });
      expect(initialWindow(await settings.isConfigured())).toBe('settings');
      expect(secondLaunchWindow(await settings.isConfigured())).toBe('settings');

      const folder = join(dir, 'YouLab');
      await mkdir(folder);
      const input = { serverUrl: 'https://hub.example.org', apiKey: 'k1', localFolder: folder, intervalSeconds: 30, debounceMs: 300, ignore: [], startAtLogin: false, openWebuiUrl: '' };
      expect(await settings.save(input)).toEqual({ ok: true });
      expect(initialWindow(await settings.isConfigured())).toBeNull();
      expect(secondLaunchWindow(await settings.isConfigured())).toBe('activity');

      // The key removed from the keychain: back to Settings.
      await secrets.delete('https://hub.example.org');
      expect(initialWindow(await settings.isConfigured())).toBe('settings');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('start at login', () => {
  it('uses login items on macOS and Windows', async () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const setLoginItemSettings = vi.fn();
      await applyStartAtLogin(true, { platform, setLoginItemSettings, command: '/x' });
      expect(setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true });
    }
  });

  it('writes and removes an XDG autostart entry on Linux', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'youlab-main-autostart-'));
    try {
      const setLoginItemSettings = vi.fn();
      const target = { platform: 'linux' as const, setLoginItemSettings, command: '/opt/YouLab Sync/youlab-sync', configHome: dir };
      await applyStartAtLogin(true, target);
      const text = await readFile(join(dir, 'autostart', 'youlab-sync.desktop'), 'utf8');
      expect(text).toContain('[Desktop Entry]');
      expect(text).toContain('Exec="/opt/YouLab Sync/youlab-sync"');
      expect(setLoginItemSettings).not.toHaveBeenCalled();
      await applyStartAtLogin(false, target);
      await expect(readFile(join(dir, 'autostart', 'youlab-sync.desktop'))).rejects.toMatchObject({ code: 'ENOENT' });
      await applyStartAtLogin(false, target);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
