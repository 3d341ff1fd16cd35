// Workspace paths are taken from the RAW request URL, not from Express's decoded params:
// decoding first would turn `%2F` into a separator and `%252e` into `%2e` before any check.
// The raw form must hold no dangerous escape; each segment is then decoded once and the
// whole path validated by shared/paths.ts.
import type { Request } from 'express';
import { validPath } from '../workspace/fs-paths.ts';
import { StoreError } from '../store-error.ts';

// A percent-escape of '.', '/', '\', '%' or a control character.
const DANGEROUS_ESCAPE = /%(2e|2f|5c|25|[01][0-9a-f]|7f)/i;

/** The path after `/<marker>/` in the raw URL, validated; `forUpload` adds the Windows rules. */
export function workspacePathFromUrl(req: Request, marker: string, forUpload: boolean, suffix?: string): string {
  const rawUrl = req.originalUrl.split('?')[0] ?? '';
  // Anchored after the workspace mount: a user id equal to the marker ("files") must not match.
  const m = new RegExp(`^/users/[^/]+/workspace/${marker}/`, 'i').exec(rawUrl);
  if (!m) throw new StoreError('bad_path', 'empty path');
  let raw = rawUrl.slice(m[0].length);
  if (suffix) {
    if (!raw.endsWith(`/${suffix}`)) throw new StoreError('bad_path', 'bad path');
    raw = raw.slice(0, -suffix.length - 1);
  }
  if (raw === '') throw new StoreError('bad_path', 'empty path');
  if (DANGEROUS_ESCAPE.test(raw)) throw new StoreError('bad_path', 'bad path: percent-encoded escape in path');
  let decoded: string;
  try {
    decoded = raw
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
  } catch {
    throw new StoreError('bad_path', 'bad path: malformed percent-encoding');
  }
  return validPath(decoded, forUpload);
}
