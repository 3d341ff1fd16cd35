// Who a request speaks for, recorded as the `origin` of the changes it makes (docs/AGENT.md): the
// device name a client sends in `X-Youlab-Device` (percent-encoded UTF-8), else the API key's
// label, else `key:<key id>`. The hub's own origins (`agent`, `openwebui`) cannot be claimed by a
// device or a user's key (recorded as `device:<name>` / `key:<label>`), so Ralph never mistakes a
// laptop for itself; a service key (Ralph's) labelled `agent` is recorded as `agent`.
import type { Request, Response } from 'express';
import { DEVICE_HEADER, RESERVED_ORIGINS, type Change } from '../../shared/protocol.ts';
import { HttpError } from './errors.ts';

const MAX_ORIGIN = 100;

/** A device name as sent, decoded and checked; undefined when absent. Malformed: 400. */
export function deviceOf(req: Request): string | undefined {
  const raw = req.headers[DEVICE_HEADER];
  if (raw === undefined) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(String(raw)).trim();
  } catch {
    // not percent-encoding: refused like any malformed header
    throw new HttpError('bad_request', 'X-Youlab-Device must be a percent-encoded UTF-8 name');
  }
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > MAX_ORIGIN || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new HttpError('bad_request', `X-Youlab-Device must be 1-${MAX_ORIGIN} printable characters`);
  }
  return name;
}

/** The origin of the changes this request makes. */
export function originOf(req: Request, res: Response): string {
  const device = deviceOf(req);
  if (device !== undefined) return (RESERVED_ORIGINS as readonly string[]).includes(device) ? `device:${device}` : device;
  const p = res.locals.principal;
  // A service key is Ralph itself: it may call itself `agent`; a user's key may not.
  if (p?.label) return !p.service && (RESERVED_ORIGINS as readonly string[]).includes(p.label) ? `key:${p.label}` : p.label;
  return p ? `key:${p.keyId}` : 'unknown';
}

/**
 * `?origin=` of the change feed: a comma list of origins to keep; a name with a leading `!` is
 * left out instead (`origin=!agent`: every change but the agent's). Absent: no filter.
 */
export function originFilter(raw: unknown): ((change: Change) => boolean) | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 2000) throw new HttpError('bad_request', 'origin must be one comma-separated list of origins (a leading ! leaves one out)');
  const names = raw.split(',').map((n) => n.trim());
  if (names.some((n) => n === '' || n === '!')) throw new HttpError('bad_request', 'origin must not hold an empty name');
  const keep = new Set(names.filter((n) => !n.startsWith('!')));
  const drop = new Set(names.filter((n) => n.startsWith('!')).map((n) => n.slice(1)));
  return (change) => {
    const o = change.origin ?? '';
    if (drop.has(o)) return false;
    return keep.size === 0 || keep.has(o);
  };
}
