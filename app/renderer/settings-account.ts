// The settings window's "Sign in with Open WebUI" block and its Devices list. The Open WebUI key
// is read from its field, sent to main once, and cleared; main answers with the hub user.
import type { DeviceView, YoulabApi } from '../ipc/contract.ts';
import { announce, byId, errorText, formatTime, h } from './common/dom.ts';

const FIELD_ERRORS = ['serverUrl', 'openWebuiUrl', 'openWebuiToken'] as const;

export interface AccountHooks {
  /** After a sign-in stored a key: the form shows "key saved". */
  onSignedIn(userId: string): void;
}

function setFieldError(field: string, message: string | undefined): void {
  const el = document.getElementById(field);
  const err = document.getElementById(`${field}-error`);
  if (!el || !err) return;
  err.textContent = message ?? '';
  if (message) el.setAttribute('aria-invalid', 'true');
  else el.removeAttribute('aria-invalid');
}

function row(d: DeviceView, disconnect: (d: DeviceView, button: HTMLButtonElement) => Promise<void>): HTMLLIElement {
  const when = `Added ${formatTime(d.created, true)} · ${d.lastUsed ? `last used ${formatTime(d.lastUsed, true)}` : 'never used'}`;
  const name = d.device || '(unnamed device)';
  const action = d.current
    ? h('span', { class: 'badge' }, 'This device')
    : h('button', { type: 'button', 'data-key': d.id, 'aria-label': `Disconnect ${name}` }, 'Disconnect');
  if (action instanceof HTMLButtonElement) action.addEventListener('click', () => void disconnect(d, action));
  return h('li', { class: 'device', 'data-current': d.current ? 'true' : undefined }, h('div', {}, h('strong', {}, name), h('div', { class: 'hint' }, when)), action);
}

export function setupAccount(api: YoulabApi, hooks: AccountHooks): { refreshDevices(): Promise<void> } {
  const token = byId<HTMLInputElement>('openWebuiToken');
  const result = byId('signin-result');
  const list = byId<HTMLUListElement>('devices');
  const status = byId('devices-status');
  const value = (id: string) => byId<HTMLInputElement>(id).value.trim();

  token.addEventListener('input', () => setFieldError('openWebuiToken', undefined));

  async function signIn(): Promise<void> {
    const button = byId<HTMLButtonElement>('signin-button');
    for (const f of FIELD_ERRORS) setFieldError(f, undefined);
    button.disabled = true;
    announce(result, 'Signing in…');
    try {
      const r = await api.invoke('account:sign-in', { serverUrl: value('serverUrl'), openWebuiUrl: value('openWebuiUrl'), openWebuiToken: token.value });
      if (r.ok) {
        token.value = '';
        announce(result, `✓ Signed in as ${r.userId}. This computer now has its own key, stored in your keychain.`, 'ok');
        hooks.onSignedIn(r.userId);
        await refreshDevices();
      } else {
        if (r.field) {
          setFieldError(r.field, r.message);
          document.getElementById(r.field)?.focus();
        }
        // A field's message stands next to the field; the summary does not repeat it.
        announce(result, r.field ? '✗ Not signed in.' : `✗ ${r.message}`, 'fail');
      }
    } catch (e) {
      announce(result, `✗ ${errorText(e)}`, 'fail');
    } finally {
      button.disabled = false;
    }
  }

  async function disconnect(d: DeviceView, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    announce(status, `Disconnecting ${d.device || 'the device'}…`);
    try {
      const r = await api.invoke('account:disconnect', { serverUrl: value('serverUrl'), keyId: d.id });
      if (!r.ok) {
        announce(status, `✗ ${r.message}`, 'fail');
        button.disabled = false;
        return;
      }
      announce(status, `${d.device || 'The device'} is disconnected; it can no longer sync.`, 'ok');
      await refreshDevices(false);
    } catch (e) {
      announce(status, `✗ ${errorText(e)}`, 'fail');
      button.disabled = false;
    }
  }

  async function refreshDevices(clearStatus = true): Promise<void> {
    if (clearStatus) announce(status, 'Loading devices…');
    try {
      const r = await api.invoke('account:devices', { serverUrl: value('serverUrl') });
      if (!r.ok) {
        list.replaceChildren();
        announce(status, r.message, 'fail');
        return;
      }
      list.replaceChildren(...r.devices.map((d) => row(d, disconnect)));
      if (clearStatus) announce(status, r.devices.length ? '' : 'No devices yet.');
    } catch (e) {
      announce(status, `✗ ${errorText(e)}`, 'fail');
    }
  }

  byId('signin-button').addEventListener('click', () => void signIn());
  token.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault(); // not the settings form's Save
      void signIn();
    }
  });
  return { refreshDevices };
}
