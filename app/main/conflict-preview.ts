// Reads both versions of a conflicted file for the side-by-side preview: the hub's version at
// the path and "mine" in the conflict copy. Text only, bounded, and never outside the folder.
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { ConflictInfo } from '../engine-api/types.ts';
import type { ConflictPreview } from '../ipc/contract.ts';

export const PREVIEW_MAX_BYTES = 64 * 1024;

function inside(root: string, rel: string): string | undefined {
  const abs = resolve(root, rel);
  const r = relative(root, abs);
  return r && !r.startsWith('..') && !isAbsolute(r) ? abs : undefined;
}

async function readHead(path: string, max: number): Promise<{ bytes: Buffer; truncated: boolean } | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    // gone or unreadable: no preview, the dialog says so
    return undefined;
  }
  try {
    const buf = Buffer.alloc(max + 1);
    const { bytesRead } = await fh.read(buf, 0, max + 1, 0);
    return { bytes: buf.subarray(0, Math.min(bytesRead, max)), truncated: bytesRead > max };
  } finally {
    await fh.close();
  }
}

/** Text means valid UTF-8 without NUL bytes (a character cut by the size cap is tolerated). */
export function decodeText(bytes: Buffer, truncated: boolean): string | undefined {
  if (bytes.includes(0)) return undefined;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let cut = 0; cut <= (truncated ? 3 : 0) && cut <= bytes.length; cut++) {
    try {
      return decoder.decode(bytes.subarray(0, bytes.length - cut));
    } catch {
      // try dropping one more trailing byte of a split character
    }
  }
  return undefined;
}

export async function readConflictPreview(localFolder: string, c: ConflictInfo, max = PREVIEW_MAX_BYTES): Promise<ConflictPreview> {
  const theirsPath = inside(localFolder, c.path);
  const minePath = inside(localFolder, c.copyPath);
  const [theirs, mine] = await Promise.all([
    theirsPath ? readHead(theirsPath, max) : undefined,
    minePath ? readHead(minePath, max) : undefined,
  ]);
  const theirsText = theirs ? decodeText(theirs.bytes, theirs.truncated) : undefined;
  const mineText = mine ? decodeText(mine.bytes, mine.truncated) : undefined;
  const text = (theirs === undefined || theirsText !== undefined) && (mine === undefined || mineText !== undefined) && Boolean(theirs || mine);
  return {
    text,
    ...(text && mineText !== undefined ? { mine: mineText } : {}),
    ...(text && theirsText !== undefined ? { theirs: theirsText } : {}),
    truncated: Boolean(theirs?.truncated || mine?.truncated),
  };
}
