// Settings window: load the view, let the user edit, save through main (which validates every
// field). Errors appear next to their field; nothing is saved until all fields are valid.
import type { SettingsField, SettingsInput, SettingsView } from '../ipc/contract.ts';
import { bridge } from './common/bridge.ts';
import { announce, byId, errorText } from './common/dom.ts';
import { setupAccount } from './settings-account.ts';

const FIELDS: SettingsField[] = ['serverUrl', 'apiKey', 'localFolder', 'intervalSeconds', 'debounceMs', 'ignore', 'openWebuiUrl'];

const api = bridge();
const form = byId<HTMLFormElement>('settings-form');
const input = <T extends HTMLElement = HTMLInputElement>(id: string) => byId<T>(id);
const saveStatus = byId('save-status');
const testResult = byId('test-result');

function setError(field: SettingsField, message: string | undefined): void {
  const el = document.getElementById(field);
  const err = document.getElementById(`${field}-error`);
  if (!el || !err) return;
  err.textContent = message ?? '';
  if (message) el.setAttribute('aria-invalid', 'true');
  else el.removeAttribute('aria-invalid');
}

function clearErrors(): void {
  for (const f of FIELDS) setError(f, undefined);
}

function fill(v: SettingsView): void {
  input('serverUrl').value = v.serverUrl;
  input('apiKey').value = '';
  input('apiKey').placeholder = v.hasApiKey ? '•••••••• saved — type a new key to replace it' : 'Paste your API key';
  input('localFolder').value = v.localFolder;
  input('intervalSeconds').value = String(v.intervalSeconds);
  input('debounceMs').value = String(v.debounceMs);
  input<HTMLTextAreaElement>('ignore').value = v.ignore.join('\n');
  input('startAtLogin').checked = v.startAtLogin;
  input('openWebuiUrl').value = v.openWebuiUrl;
  const banner = byId('keychain-banner');
  banner.hidden = !v.keychainError;
  banner.textContent = v.keychainError ?? '';
  byId('intro').textContent = v.firstRun
    ? 'Welcome! Connect to your YouLab hub and choose a folder to start syncing.'
    : 'Connect to your YouLab hub and choose the folder to keep in sync.';
}

/** Numbers are checked here only for being numbers; ranges are main's call. */
function readNumber(field: 'intervalSeconds' | 'debounceMs', errors: Map<SettingsField, string>): number {
  const raw = input(field).value.trim();
  const n = raw === '' ? NaN : Number(raw);
  if (!Number.isFinite(n)) errors.set(field, 'Enter a number');
  return n;
}

function collect(errors: Map<SettingsField, string>): SettingsInput {
  const key = input('apiKey').value;
  return {
    serverUrl: input('serverUrl').value.trim(),
    ...(key.trim() ? { apiKey: key.trim() } : {}),
    localFolder: input('localFolder').value.trim(),
    intervalSeconds: readNumber('intervalSeconds', errors),
    debounceMs: readNumber('debounceMs', errors),
    ignore: input<HTMLTextAreaElement>('ignore').value.split(/\r?\n/),
    startAtLogin: input('startAtLogin').checked,
    openWebuiUrl: input('openWebuiUrl').value.trim(),
  };
}

function showErrors(errors: Partial<Record<SettingsField, string>>): void {
  clearErrors();
  let first: HTMLElement | undefined;
  for (const f of FIELDS) {
    const msg = errors[f];
    if (!msg) continue;
    setError(f, msg);
    first ??= document.getElementById(f) ?? undefined;
  }
  first?.focus();
}

async function save(): Promise<void> {
  const local = new Map<SettingsField, string>();
  const data = collect(local);
  if (local.size) {
    showErrors(Object.fromEntries(local));
    announce(saveStatus, 'Not saved: fix the highlighted fields.', 'fail');
    return;
  }
  const button = byId<HTMLButtonElement>('save');
  button.disabled = true;
  announce(saveStatus, 'Saving…');
  try {
    const result = await api.invoke('settings:save', data);
    if (result.ok) {
      clearErrors();
      announce(saveStatus, 'Saved. Syncing with the new settings.', 'ok');
      fill(await api.invoke('settings:get'));
    } else {
      showErrors(result.errors);
      const n = Object.keys(result.errors).length;
      announce(saveStatus, `Not saved: ${n === 1 ? '1 field needs' : `${n} fields need`} attention.`, 'fail');
    }
  } catch (e) {
    announce(saveStatus, `Not saved: ${errorText(e)}`, 'fail');
  } finally {
    button.disabled = false;
  }
}

async function testConnection(): Promise<void> {
  const button = byId<HTMLButtonElement>('test-connection');
  button.disabled = true;
  announce(testResult, 'Connecting…');
  try {
    const key = input('apiKey').value.trim();
    const r = await api.invoke('settings:test-connection', {
      serverUrl: input('serverUrl').value.trim(),
      ...(key ? { apiKey: key } : {}),
    });
    if (r.ok) announce(testResult, `✓ Connected as ${r.userId}`, 'ok');
    else announce(testResult, `✗ ${r.message}`, 'fail');
  } catch (e) {
    announce(testResult, `✗ ${errorText(e)}`, 'fail');
  } finally {
    button.disabled = false;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void save();
});
byId('test-connection').addEventListener('click', () => void testConnection());
byId('pick-folder').addEventListener('click', async () => {
  const current = input('localFolder').value.trim();
  const r = await api.invoke('settings:pick-folder', current ? { current } : {});
  if (r.path) {
    input('localFolder').value = r.path;
    setError('localFolder', undefined);
  }
  input('localFolder').focus();
});
byId('toggle-key').addEventListener('click', (e) => {
  const field = input('apiKey');
  const show = field.type === 'password';
  field.type = show ? 'text' : 'password';
  const btn = e.currentTarget as HTMLButtonElement;
  btn.textContent = show ? 'Hide' : 'Show';
  btn.setAttribute('aria-pressed', String(show));
});
byId('cancel').addEventListener('click', () => void api.invoke('window:close'));
// Editing a field clears its stale error so the message always matches what is on screen.
for (const f of FIELDS) {
  document.getElementById(f)?.addEventListener('input', () => setError(f, undefined));
}
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') void api.invoke('window:close');
});
const account = setupAccount(api, {
  onSignedIn: () => {
    input('apiKey').value = '';
    input('apiKey').placeholder = '•••••••• saved — type a new key to replace it';
    setError('apiKey', undefined);
  },
});

api
  .invoke('settings:get')
  .then((v) => {
    fill(v);
    document.body.dataset.ready = 'true';
    if (v.firstRun) input('serverUrl').focus();
    if (v.serverUrl && v.hasApiKey) void account.refreshDevices();
    else announce(byId('devices-status'), 'Sign in to see the devices connected as you.');
  })
  .catch((e: unknown) => announce(saveStatus, `Could not load settings: ${errorText(e)}`, 'fail'));
