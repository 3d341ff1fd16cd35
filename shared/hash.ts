// Content identity is sha256 of the bytes (docs/SYNC-SPEC.md "Terms"); mtime/size/inode never
// decide. The pure part: the hash's spelling and its use as an entity tag. Computing one needs
// Node: shared/node/hash.ts.

export const HASH_PREFIX = 'sha256:';

/** sha256 of zero bytes. */
export const EMPTY_HASH = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

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
