// Hashing bytes and files (docs/SYNC-SPEC.md "Terms": sha256 of the bytes decides identity).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { HASH_PREFIX } from '../hash.ts';

export function hashBytes(data: Uint8Array | string): string {
  return HASH_PREFIX + createHash('sha256').update(data).digest('hex');
}

/** Files up to this size are read in one call: a stream costs several thread-pool round trips more. */
const READ_WHOLE_BYTES = 1024 * 1024;

/** sha256 of a file's bytes; `sizeHint` (from a stat just taken) picks one read for small files. */
export async function hashFile(path: string, sizeHint?: number): Promise<string> {
  if (sizeHint !== undefined && sizeHint <= READ_WHOLE_BYTES) {
    // At most sizeHint bytes are read, so a file that grew meanwhile cannot make us buffer it
    // whole; its hash is then of a prefix, which is safe only because callers compare the stat
    // taken before with one taken after and never trust the hash of a file that changed.
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(sizeHint);
      let n = 0;
      while (n < buf.length) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return hashBytes(buf.subarray(0, n));
    } finally {
      await fh.close();
    }
  }
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return HASH_PREFIX + h.digest('hex');
}
