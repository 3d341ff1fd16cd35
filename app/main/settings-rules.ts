// Field rules for the settings window, pure (no Node, no Electron) so that main applies them on
// save and the test bridge can mirror them exactly. Checks needing the disk (does the folder
// exist) and the keychain live in settings-service.ts.
import { validateIgnorePatterns } from '../../shared/ignore-rules.ts';
import type { SettingsField, SettingsInput } from '../ipc/contract.ts';

/** Absolute on any OS: /x, C:\x or C:/x, or a UNC path. */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

export const INTERVAL_RANGE = { min: 5, max: 86_400 } as const;
export const DEBOUNCE_RANGE = { min: 0, max: 60_000 } as const;

export type FieldErrors = Partial<Record<SettingsField, string>>;

function httpUrlError(value: string, what: string, example: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    // the message below is the answer
    return `Enter the full ${what} address, for example ${example}`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `The ${what} address must start with https:// or http://`;
  if (u.username || u.password) return `Leave the user name and password out of the address; the API key signs you in`;
  return undefined;
}

/** Checks that need no I/O. Exported for tests and reused by saveSettings. */
export function validateFields(input: SettingsInput): FieldErrors {
  const errors: FieldErrors = {};
  const url = input.serverUrl.trim();
  if (!url) errors.serverUrl = 'Enter the hub address, for example https://hub.example.org';
  else {
    const e = httpUrlError(url, 'hub', 'https://hub.example.org');
    if (e) errors.serverUrl = e;
  }
  const owui = input.openWebuiUrl.trim();
  if (owui) {
    const e = httpUrlError(owui, 'Open WebUI', 'https://openwebui.example.org');
    if (e) errors.openWebuiUrl = e;
  }
  if (input.apiKey && [...input.apiKey].some((ch) => ch.trim() === '' || ch.charCodeAt(0) < 0x20)) {
    errors.apiKey = 'The API key cannot contain spaces or line breaks; paste it again';
  }
  const folder = input.localFolder.trim();
  if (!folder) errors.localFolder = 'Choose the folder to keep in sync';
  else if (!isAbsolutePath(folder)) errors.localFolder = 'Use a full path (choose the folder with Browse…)';
  const iv = input.intervalSeconds;
  if (!Number.isInteger(iv) || iv < INTERVAL_RANGE.min || iv > INTERVAL_RANGE.max) {
    errors.intervalSeconds = `Enter whole seconds between ${INTERVAL_RANGE.min} and ${INTERVAL_RANGE.max} (24 hours)`;
  }
  const db = input.debounceMs;
  if (!Number.isInteger(db) || db < DEBOUNCE_RANGE.min || db > DEBOUNCE_RANGE.max) {
    errors.debounceMs = `Enter whole milliseconds between ${DEBOUNCE_RANGE.min} and ${DEBOUNCE_RANGE.max}`;
  }
  const ignoreErrors = validateIgnorePatterns(input.ignore);
  if (ignoreErrors.length) errors.ignore = ignoreErrors.join('; ');
  return errors;
}

