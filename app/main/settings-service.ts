// The settings window's model: read config.yaml + keychain into a view, validate input field by
// field, and save only when every field is valid. The API key goes to the OS keychain and
// nowhere else; when no keychain is reachable the user is told, and nothing is written.
import { stat } from 'node:fs/promises';
import { ClientConfigSchema, durationMs, loadConfig, saveConfig, type ClientConfig } from '../sync/config.ts';
import { accountFor, KeychainUnavailableError, type SecretStore } from '../sync/keychain.ts';
import type { SaveResult, SettingsInput, SettingsView } from '../ipc/contract.ts';
import { validateFields } from './settings-rules.ts';
import { loadDesktopPrefs, saveDesktopPrefs } from './desktop-prefs.ts';

export interface SettingsDeps {
  configPath: string;
  prefsPath: string;
  secrets: SecretStore;
  /** Applies the start-at-login choice to the OS (login items, or an XDG autostart entry). */
  setStartAtLogin(enabled: boolean): void | Promise<void>;
}

async function readConfig(path: string): Promise<{ config: ClientConfig; ok: boolean }> {
  try {
    return { config: await loadConfig(path), ok: true };
  } catch {
    // A broken file is shown as defaults; saving replaces it with a valid one.
    return { config: ClientConfigSchema.parse({}), ok: false };
  }
}

export class SettingsService {
  constructor(private readonly deps: SettingsDeps) {}

  /** First run: no folder or no key yet. */
  async isConfigured(): Promise<boolean> {
    const { config } = await readConfig(this.deps.configPath);
    if (!config.server.url || !config.sync.local_folder) return false;
    try {
      return Boolean(await this.deps.secrets.get(accountFor(config.server.url)));
    } catch {
      // no keychain available: reported as no key stored
      return false;
    }
  }

  async view(): Promise<SettingsView> {
    const { config } = await readConfig(this.deps.configPath);
    const prefs = await loadDesktopPrefs(this.deps.prefsPath);
    let hasApiKey = false;
    let keychainError: string | undefined;
    if (config.server.url) {
      try {
        hasApiKey = Boolean(await this.deps.secrets.get(accountFor(config.server.url)));
      } catch (e) {
        keychainError = e instanceof KeychainUnavailableError ? keychainMessage(e) : e instanceof Error ? e.message : String(e);
      }
    }
    return {
      serverUrl: config.server.url ?? '',
      hasApiKey,
      localFolder: config.sync.local_folder ?? '',
      intervalSeconds: Math.round(durationMs(config.sync.interval) / 1000),
      debounceMs: Math.round(durationMs(config.watch.debounce)),
      ignore: config.ignore,
      startAtLogin: config.start_at_login,
      openWebuiUrl: prefs.openwebui_url ?? '',
      firstRun: !config.server.url || !config.sync.local_folder || !hasApiKey,
      ...(keychainError ? { keychainError } : {}),
    };
  }

  /** A key from "Sign in with Open WebUI": to the keychain, like a pasted one. */
  async storeKey(serverUrl: string, key: string): Promise<void> {
    await this.deps.secrets.set(accountFor(serverUrl), key);
  }

  async save(input: SettingsInput): Promise<SaveResult> {
    const errors = validateFields(input);
    const serverUrl = input.serverUrl.trim();
    const folder = input.localFolder.trim();
    if (!errors.localFolder) {
      const st = await stat(folder).catch(() => undefined); // missing or unreadable: the message below says so
      if (!st) errors.localFolder = 'This folder does not exist; choose an existing folder';
      else if (!st.isDirectory()) errors.localFolder = 'This is a file, not a folder';
    }
    const newKey = input.apiKey?.trim() ? input.apiKey.trim() : undefined;
    if (!errors.serverUrl && !errors.apiKey) {
      const account = accountFor(serverUrl);
      try {
        if (!newKey && !(await this.deps.secrets.get(account))) {
          errors.apiKey = 'Enter the API key for this hub';
        }
      } catch (e) {
        errors.apiKey = keychainMessage(e);
      }
    }
    if (Object.keys(errors).length) return { ok: false, errors };

    // The key first: if the keychain refuses it, nothing else changes either.
    if (newKey) {
      try {
        await this.deps.secrets.set(accountFor(serverUrl), newKey);
      } catch (e) {
        return { ok: false, errors: { apiKey: keychainMessage(e) } };
      }
    }
    const { config: current } = await readConfig(this.deps.configPath);
    const next: ClientConfig = {
      ...current,
      server: { ...current.server, url: serverUrl },
      sync: { ...current.sync, local_folder: folder, interval: `${input.intervalSeconds}s` },
      watch: { ...current.watch, debounce: `${input.debounceMs}ms` },
      ignore: input.ignore.filter((l) => l.trim() !== ''),
      start_at_login: input.startAtLogin,
    };
    await saveConfig(next, this.deps.configPath);
    const owui = input.openWebuiUrl.trim();
    await saveDesktopPrefs(this.deps.prefsPath, owui ? { openwebui_url: owui } : {});
    await this.deps.setStartAtLogin(input.startAtLogin);
    return { ok: true };
  }
}

function keychainMessage(e: unknown): string {
  // The error's own message names the command line's --key-file, which the app does not take.
  if (e instanceof KeychainUnavailableError) {
    return `No OS keychain is available to store the API key: ${e.reason}. Until one is, start the app with YOULAB_API_KEY set (the key is then kept in memory only).`;
  }
  return `The OS keychain refused the key: ${e instanceof Error ? e.message : String(e)}`;
}
