// Path rules of docs/SYNC-SPEC.md "Paths and input": one place decides what a workspace path may be,
// so the hub, the client and the KB sync reject exactly the same forms.

import { windowsSegmentProblem } from './local-names.ts';

export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

// Control characters (C0, DEL, C1); NUL included.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A percent-escape that decodes to something a path may not hold: '.', '/', '\', '%' or a control char.
const DANGEROUS_ESCAPE = /%(2e|2f|5c|25|[01][0-9a-f]|7f)/i;

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

export interface PathOptions {
  /** Reject Windows-reserved names (CON, NUL, trailing dot/space): done on upload. */
  forUpload?: boolean;
}

/** Validate a relative workspace path and return its NFC form. */
export function checkPath(input: string, opts: PathOptions = {}): PathCheck {
  if (typeof input !== 'string' || input.length === 0) return bad('empty path');
  if (CONTROL.test(input)) return bad('control character in path');
  if (input.includes('\\')) return bad('backslash in path');
  if (input.startsWith('/')) return bad('absolute path');
  if (/^[a-zA-Z]:/.test(input)) return bad('drive-letter path');
  if (DANGEROUS_ESCAPE.test(input)) return bad('percent-encoded escape in path');
  const path = input.normalize('NFC');
  if (utf8Length(path) > MAX_PATH_BYTES) return bad('path too long');
  const segments = path.split('/');
  for (const seg of segments) {
    if (seg === '') return bad('empty path segment');
    if (seg === '.' || seg === '..') return bad(`'${seg}' segment in path`);
    if (utf8Length(seg) > MAX_SEGMENT_BYTES) return bad('path segment too long');
    if (opts.forUpload) {
      const windows = windowsSegmentProblem(seg);
      if (windows) return bad(windows);
    }
  }
  return { ok: true, path };
}

function bad(reason: string): PathCheck {
  return { ok: false, reason };
}

/** NFC key under which paths are compared (the bytes on disk are left as the OS wrote them). */
export function pathKey(p: string): string {
  return p.normalize('NFC');
}

/** Case-folded key, for detecting case-only clashes on case-insensitive filesystems. */
export function caseKey(p: string): string {
  return p.normalize('NFC').toLowerCase();
}

/** Parent folders of a path, nearest last: "a/b/c.txt" -> ["a", "a/b"]. */
export function parentsOf(p: string): string[] {
  const parts = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** Encode a relative path for a URL, segment by segment. */
export function encodePathForUrl(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Bytes of `s` in UTF-8 (file systems limit names in bytes); a lone surrogate counts as U+FFFD (3 bytes), as encoders write it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
