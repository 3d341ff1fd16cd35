// Who does an Open WebUI token (API key or session token) belong to? Asked of the configured Open
// WebUI with the token itself; the token is only forwarded, never stored or logged.
//
// `GET /api/v1/auths/` answers with the user on every release for a session token, and for an API
// key before 0.12. 0.12.x refuses API keys there (403 "A human session is required."), so an API
// key falls back to `GET /api/v1/users/user/status`, which 0.12.x serves to any verified user
// (API key included) with the whole user record. See docs/OPENWEBUI-API.md, "Authentication".

import { z } from 'zod';

export interface OpenWebUIIdentity {
  id: string;
  email: string;
  role: string;
}

/** Why the exchange failed: `refused` = the token is wrong/expired (401), `unavailable` = Open WebUI down (502). */
export class IdentityError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}

const UserSchema = z.object({ id: z.string().min(1), email: z.string().default(''), role: z.string().default('user') });

const TIMEOUT_MS = 10_000;

interface Answer {
  status: number;
  body: unknown;
}

async function ask(base: string, path: string, token: string): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    // Never include the request (it carries the token); the cause's message is a network error.
    throw new IdentityError('unavailable', `Open WebUI is unreachable (${(e as Error).name})`);
  }
  const text = await res.text().catch(() => ''); // a body cut short is judged by its status alone
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined; // an HTML page (old releases answer unknown routes that way) or nothing
  }
  return { status: res.status, body };
}

function detailOf(a: Answer): string {
  const d = (a.body as { detail?: unknown } | undefined)?.detail;
  return typeof d === 'string' ? d : '';
}

function userFrom(a: Answer): OpenWebUIIdentity | undefined {
  const u = UserSchema.safeParse(a.body);
  return u.success ? u.data : undefined;
}

function failFor(a: Answer): never {
  if (a.status === 401 || a.status === 403) {
    throw new IdentityError('refused', 'Open WebUI did not accept this token (wrong, expired or revoked key, or API keys are off for this account)');
  }
  if (a.status >= 500 || a.status === 0) throw new IdentityError('unavailable', `Open WebUI answered ${a.status}`);
  throw new IdentityError('unavailable', `Open WebUI answered ${a.status} where a user was expected`);
}

/** The Open WebUI user behind `token`; throws IdentityError. */
export async function whoIs(openWebUIUrl: string, token: string): Promise<OpenWebUIIdentity> {
  const session = await ask(openWebUIUrl, '/api/v1/auths/', token);
  if (session.status === 200) {
    const u = userFrom(session);
    if (u) return u;
    throw new IdentityError('unavailable', 'Open WebUI answered GET /api/v1/auths/ without a user');
  }
  if (session.status !== 403 || !/human session/i.test(detailOf(session))) failFor(session);
  // 0.12.x with an API key: the token is valid (it got past authentication), ask the other route.
  const status = await ask(openWebUIUrl, '/api/v1/users/user/status', token);
  if (status.status === 200) {
    const u = userFrom(status);
    if (u) return u;
  }
  if (status.status === 403) {
    throw new IdentityError(
      'unsupported',
      'this Open WebUI cannot say whose API key this is (user status is turned off): sign in with a session token instead, or ask an operator for a hub key',
    );
  }
  return failFor(status);
}

/**
 * The hub user an Open WebUI account stands for, through RALPH_OPENWEBUI_USER_MAP (hub id ->
 * Open WebUI id or email; unmapped hub ids are Open WebUI ids). Undefined when the account has no
 * hub id of its own: its Open WebUI id is a hub id mapped to someone else, or two hub ids claim it.
 */
export function hubUserFor(who: OpenWebUIIdentity, userMap: Record<string, string>): string | undefined {
  const email = who.email.toLowerCase();
  const mapped = Object.entries(userMap)
    .filter(([, v]) => v === who.id || (email !== '' && v.toLowerCase() === email))
    .map(([k]) => k);
  if (mapped.length === 1) return mapped[0];
  if (mapped.length > 1) return undefined;
  // Unmapped: the Open WebUI id is the hub id, unless that hub id is mapped to another account.
  return Object.hasOwn(userMap, who.id) ? undefined : who.id;
}
