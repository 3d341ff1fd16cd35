// Main's side of "Sign in with Open WebUI" and the Devices list: the Open WebUI token goes to
// the hub once (POST /auth/exchange) and is kept nowhere; the hub key that comes back goes to the
// OS keychain like a pasted one. No Electron here: tests call these handlers directly.
import { hostname } from 'node:os';
import { keyIdOf } from '../../shared/devices.ts';
import { HubError } from '../sync/hub-errors.ts';
import { disconnectDevice, listDevices, signInWithOpenWebUI } from '../sync/sign-in.ts';
import type { IpcHandlers } from './ipc-router.ts';

export interface AccountDeps {
  storedKey(serverUrl: string): Promise<string | undefined>;
  storeKey(serverUrl: string, key: string): Promise<void>;
  /** Defaults to this computer's name. */
  deviceName?: () => string;
  /** The hub calls (app/sync/sign-in.ts); tests may pass others. */
  hub?: { signIn: typeof signInWithOpenWebUI; list: typeof listDevices; disconnect: typeof disconnectDevice };
}

type AccountChannels = 'account:sign-in' | 'account:devices' | 'account:disconnect';

function hubUrl(raw: string): string | undefined {
  try {
    const u = new URL(raw.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    // not a URL: the caller answers with the field message
    return undefined;
  }
}

const NO_HUB = 'Enter the full hub address first, for example https://hub.example.org';

function messageOf(e: unknown): string {
  if (e instanceof HubError) {
    if (e.kind === 'network') return `Cannot reach the hub: ${e.message}`;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function accountHandlers(deps: AccountDeps): Pick<IpcHandlers, AccountChannels> {
  const hub = deps.hub ?? { signIn: signInWithOpenWebUI, list: listDevices, disconnect: disconnectDevice };
  const keyFor = async (serverUrl: string): Promise<{ url: string; key: string } | { message: string }> => {
    const url = hubUrl(serverUrl);
    if (!url) return { message: NO_HUB };
    try {
      const key = await deps.storedKey(url);
      return key ? { url, key } : { message: 'Sign in or save an API key for this hub first' };
    } catch (e) {
      return { message: messageOf(e) };
    }
  };
  return {
    'account:sign-in': async ({ serverUrl, openWebuiUrl, openWebuiToken, device }) => {
      const url = hubUrl(serverUrl);
      if (!url) return { ok: false, field: 'serverUrl', message: NO_HUB };
      if (openWebuiUrl.trim() && !hubUrl(openWebuiUrl)) {
        return { ok: false, field: 'openWebuiUrl', message: 'Enter the full Open WebUI address, for example https://chat.example.org' };
      }
      const token = openWebuiToken.trim();
      if (!token) return { ok: false, field: 'openWebuiToken', message: 'Paste the API key from Open WebUI (Settings › Account › API keys)' };
      let issued;
      try {
        issued = await hub.signIn(url, token, device?.trim() || (deps.deviceName ?? hostname)());
      } catch (e) {
        if (e instanceof HubError && e.kind === 'auth') return { ok: false, field: 'openWebuiToken', message: e.message };
        return { ok: false, message: messageOf(e) };
      }
      try {
        await deps.storeKey(url, issued.key);
      } catch (e) {
        return { ok: false, message: `Signed in, but the key could not be stored: ${messageOf(e)}` };
      }
      return { ok: true, userId: issued.user_id, keyId: issued.key_id };
    },
    'account:devices': async ({ serverUrl }) => {
      const k = await keyFor(serverUrl);
      if ('message' in k) return { ok: false, message: k.message };
      try {
        const mine = keyIdOf(k.key);
        const devices = (await hub.list(k.url, k.key)).map((d) => ({
          id: d.id,
          device: d.device,
          created: d.created,
          lastUsed: d.last_used,
          current: d.current ?? d.id === mine,
        }));
        return { ok: true, devices };
      } catch (e) {
        return { ok: false, message: messageOf(e) };
      }
    },
    'account:disconnect': async ({ serverUrl, keyId }) => {
      const k = await keyFor(serverUrl);
      if ('message' in k) return { ok: false, message: k.message };
      if (keyIdOf(k.key) === keyId) return { ok: false, message: 'This is the device you are using; to disconnect it, sign out here instead' };
      try {
        await hub.disconnect(k.url, k.key, keyId);
        return { ok: true };
      } catch (e) {
        return { ok: false, message: messageOf(e) };
      }
    },
  };
}
