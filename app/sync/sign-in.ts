// Sign in with Open WebUI and manage this user's devices, over the hub's key routes
// (POST /auth/exchange, GET /me/keys, DELETE /me/keys/{id}). Used by `youlab-sync login
// --openwebui` and by the desktop app's settings window. The Open WebUI token is sent once, to
// the hub, and kept nowhere.
import got, { type Response } from 'got';
import { DeviceListSchema, IssuedKeySchema, type DeviceKey, type IssuedKey } from '../../shared/devices.ts';
import { errorFrom, HubError, toNetworkError } from './hub-errors.ts';

const TIMEOUT_MS = 30_000;

async function send(call: () => Promise<Response<string>>): Promise<Response<string>> {
  let res: Response<string>;
  try {
    res = await call();
  } catch (e) {
    throw toNetworkError(e);
  }
  if (res.statusCode >= 300) throw errorFrom(res.statusCode, res.body, res.headers['retry-after']);
  return res;
}

function parse<T>(schema: { parse(v: unknown): T }, res: Response<string>): T {
  try {
    return schema.parse(JSON.parse(res.body));
  } catch {
    throw new HubError('protocol', `the hub answered ${res.url} with something unexpected`);
  }
}

const opts = { throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: TIMEOUT_MS } } as const;

/** A new hub key for the owner of `openWebUIToken`, labelled `device`. Throws HubError (auth = token refused). */
export async function signInWithOpenWebUI(server: string, openWebUIToken: string, device: string): Promise<IssuedKey> {
  const res = await send(() => got.post(new URL('/auth/exchange', server), { ...opts, json: { openwebui_token: openWebUIToken, device } }));
  return parse(IssuedKeySchema, res);
}

export async function listDevices(server: string, key: string): Promise<DeviceKey[]> {
  const res = await send(() => got(new URL('/me/keys', server), { ...opts, headers: { authorization: `Bearer ${key}` } }));
  return parse(DeviceListSchema, res).keys;
}

export async function disconnectDevice(server: string, key: string, keyId: string): Promise<void> {
  await send(() => got.delete(new URL(`/me/keys/${encodeURIComponent(keyId)}`, server), { ...opts, headers: { authorization: `Bearer ${key}` } }));
}
