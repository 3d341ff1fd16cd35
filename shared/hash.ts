// Content identity is sha256 of the bytes (SYNC-SPEC "Terms"); mtime/size/inode never decide.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const HASH_PREFIX = 'sha256:';

export function hashBytes(data: Uint8Array | string): string {
  return HASH_PREFIX + createHash('sha256').update(data).digest('hex');
}

export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return HASH_PREFIX + h.digest('hex');
}

export const EMPTY_HASH = hashBytes('');

export function isHash(s: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(s);
}

/** Quote for ETag / If-Match. */
export function etagOf(hash: string): string {
  return `"${hash}"`;
}

/** Parse an ETag / If-Match value, tolerating weak tags and missing quotes. */
export function parseEtag(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return v || undefined;
}
