// Settings persistence: a real config.yaml in a temp folder, the key in the in-memory keychain,
// invalid input never written, and no plaintext key anywhere on disk.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import type { SettingsInput } from '../../app/ipc/contract.ts';
import { desktopPrefsPath } from '../../app/main/desktop-prefs.ts';
import { SettingsService } from '../../app/main/settings-service.ts';
import { validateFields } from '../../app/main/settings-rules.ts';
import { loadConfig } from '../../app/sync/config.ts';
import { createMemoryKeychain, KeychainUnavailableError, type SecretStore } from '../../app/sync/keychain.ts';

let dir: string;
let folder: string;
let configPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'youlab-main-settings-'));
  folder = join(dir, 'YouLab');
  await mkdir(folder);
  configPath = join(dir, 'conf', 'config.yaml');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function service(secrets: SecretStore = createMemoryKeychain()) {
  const setStartAtLogin = vi.fn();
  const s = new SettingsService({ configPath, prefsPath: desktopPrefsPath(configPath), secrets, setStartAtLogin });
  return { s, secrets, setStartAtLogin };
}

function input(over: Partial<SettingsInput> = {}): SettingsInput {
  return {
    serverUrl: 'https://hub.example.org',
    apiKey: 'yl_live_secret_0123456789',
    localFolder: folder,
    intervalSeconds: 45,
    debounceMs: 750,
    ignore: ['*.log', '', 'build/'],
    startAtLogin: true,
    openWebuiUrl: 'https://openwebui.example.org',
    ...over,
  };
}

describe('SettingsService', () => {
  it('first run: nothing configured, defaults shown', async () => {
    const { s } = service();
    expect(await s.isConfigured()).toBe(false);
    expect(await s.view()).toEqual({
      serverUrl: '',
      hasApiKey: false,
      localFolder: '',
      intervalSeconds: 30,
      debounceMs: 300,
      ignore: [],
      startAtLogin: false,
      openWebuiUrl: '',
      firstRun: true,
    });
  });

  it('round-trips through config.yaml and the keychain', async () => {
    const { s, secrets, setStartAtLogin } = service();
    expect(await s.save(input())).toEqual({ ok: true });

    const config = await loadConfig(configPath);
    expect(config.server.url).toBe('https://hub.example.org');
    expect(config.sync.local_folder).toBe(folder);
    expect(config.sync.interval).toBe('45s');
    expect(config.watch.debounce).toBe('750ms');
    expect(config.ignore).toEqual(['*.log', 'build/']);
    expect(config.start_at_login).toBe(true);
    expect(await secrets.get('https://hub.example.org')).toBe('yl_live_secret_0123456789');
    expect(setStartAtLogin).toHaveBeenCalledWith(true);

    // The key is on no disk file: not in config.yaml, not in desktop.json.
    for (const f of [configPath, desktopPrefsPath(configPath)]) {
      expect(await readFile(f, 'utf8')).not.toContain('yl_live_secret');
    }

    const view = await s.view();
    expect(view).toMatchObject({ serverUrl: 'https://hub.example.org', hasApiKey: true, intervalSeconds: 45, debounceMs: 750, firstRun: false, openWebuiUrl: 'https://openwebui.example.org' });
    expect(JSON.stringify(view)).not.toContain('yl_live_secret');
    expect(await s.isConfigured()).toBe(true);
  });

  it('keeps the stored key when the field is left empty, and keeps unrelated config keys', async () => {
    const { s, secrets } = service();
    await s.save(input());
    const raw = YAML.parse(await readFile(configPath, 'utf8'));
    raw.sync.device = 'laptop';
    await writeFile(configPath, YAML.stringify(raw));
    expect(await s.save(input({ apiKey: '', intervalSeconds: 90, startAtLogin: false }))).toEqual({ ok: true });
    expect(await secrets.get('https://hub.example.org')).toBe('yl_live_secret_0123456789');
    const config = await loadConfig(configPath);
    expect(config.sync.interval).toBe('90s');
    expect(config.sync.device).toBe('laptop');
  });

  it('never saves invalid input, and says which field is wrong', async () => {
    const { s, secrets, setStartAtLogin } = service();
    const r = await s.save(
      input({
        serverUrl: 'hub.example.org',
        localFolder: 'relative/folder',
        intervalSeconds: 1,
        debounceMs: 1.5,
        ignore: ['ok/', '../outside'],
        openWebuiUrl: 'javascript:alert(1)',
        apiKey: 'has space',
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors).sort()).toEqual(['apiKey', 'debounceMs', 'ignore', 'intervalSeconds', 'localFolder', 'openWebuiUrl', 'serverUrl']);
    expect(r.errors.ignore).toBe("line 2: '..' cannot match inside the folder");
    await expect(readFile(configPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await secrets.get('https://hub.example.org')).toBeUndefined();
    expect(setStartAtLogin).not.toHaveBeenCalled();
  });

  it('refuses a folder that does not exist or is a file, leaving the saved config as it was', async () => {
    const { s } = service();
    await s.save(input());
    const before = await readFile(configPath, 'utf8');
    const missing = await s.save(input({ localFolder: join(dir, 'nope'), intervalSeconds: 99 }));
    expect(missing).toEqual({ ok: false, errors: { localFolder: 'This folder does not exist; choose an existing folder' } });
    await writeFile(join(dir, 'file.txt'), 'x');
    const file = await s.save(input({ localFolder: join(dir, 'file.txt') }));
    expect(file).toEqual({ ok: false, errors: { localFolder: 'This is a file, not a folder' } });
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it('asks for a key when the hub has none stored (a new hub address needs its own key)', async () => {
    const { s } = service(createMemoryKeychain({ 'https://old.example.org': 'k' }));
    const r = await s.save(input({ apiKey: undefined }));
    expect(r).toEqual({ ok: false, errors: { apiKey: 'Enter the API key for this hub' } });
  });

  it('without a keychain: a clear message, and nothing saved in plaintext', async () => {
    const broken: SecretStore = {
      get: async () => {
        throw new KeychainUnavailableError(new Error('org.freedesktop.secrets was not provided'));
      },
      set: async () => {
        throw new KeychainUnavailableError(new Error('org.freedesktop.secrets was not provided'));
      },
      delete: async () => false,
    };
    const { s } = service(broken);
    const r = await s.save(input());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.apiKey).toMatch(/^No OS keychain is available/);
    await expect(readFile(configPath)).rejects.toMatchObject({ code: 'ENOENT' });

    const { s: s2 } = service(broken);
    await mkdir(join(dir, 'conf'), { recursive: true });
    await writeFile(configPath, YAML.stringify({ server: { url: 'https://hub.example.org' }, sync: { local_folder: folder } }));
    const view = await s2.view();
    expect(view.keychainError).toMatch(/No OS keychain is available/);
    expect(view.keychainError).toMatch(/YOULAB_API_KEY/);
    expect(view.keychainError).not.toMatch(/--key-file/); // a command-line flag the app does not take
    expect(view.hasApiKey).toBe(false);
  });

  it('shows defaults for a broken config file, and saving repairs it', async () => {
    await mkdir(join(dir, 'conf'), { recursive: true });
    await writeFile(configPath, 'server: [this is not\n');
    const { s } = service();
    expect((await s.view()).serverUrl).toBe('');
    expect(await s.save(input())).toEqual({ ok: true });
    expect((await loadConfig(configPath)).server.url).toBe('https://hub.example.org');
  });
});

describe('validateFields', () => {
  it('accepts good input', () => {
    expect(validateFields(input())).toEqual({});
    expect(validateFields(input({ openWebuiUrl: '', localFolder: 'C:\\Users\\ada\\YouLab' }))).toEqual({});
  });
  it('explains each bad field', () => {
    expect(validateFields(input({ serverUrl: '' })).serverUrl).toMatch(/Enter the hub address/);
    expect(validateFields(input({ serverUrl: 'https://user:pw@hub.example.org' })).serverUrl).toMatch(/Leave the user name/);
    expect(validateFields(input({ intervalSeconds: 86_401 })).intervalSeconds).toMatch(/between 5 and 86400/);
    expect(validateFields(input({ debounceMs: -1 })).debounceMs).toMatch(/between 0 and 60000/);
    expect(validateFields(input({ localFolder: '' })).localFolder).toBe('Choose the folder to keep in sync');
  });
});
