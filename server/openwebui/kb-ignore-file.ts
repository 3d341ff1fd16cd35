// Reads the workspace's `.youlabignore` for the KB leg and builds the round's exclusion rules
// (exclude.ts decides; this is the I/O half). The round and the status route both use it, so a
// path the round leaves out is the path status shows as ignored.
import { MAX_IGNORE_FILE_BYTES, parseIgnoreFile, YOULABIGNORE } from '../../shared/ignore-rules.ts';
import type { FileEntry } from '../../shared/protocol.ts';
import { StoreError } from '../store-error.ts';
import type { WorkspaceStore } from '../workspace/types.ts';
import { kbExclusion, type KbExclusion } from './exclude.ts';

export interface LoadedExclusion {
  exclusion: KbExclusion;
  /** Lines of `.youlabignore` left out (bad syntax), or why the file was not read. */
  errors: string[];
}

/** The rules for one listing of the workspace: defaults, its `.youlabignore`, virtualenvs, the size limit. */
export async function loadKbExclusion(
  store: WorkspaceStore,
  userId: string,
  files: readonly FileEntry[],
  maxFileBytes: number | undefined,
): Promise<LoadedExclusion> {
  const { patterns, errors } = await readIgnoreFile(store, userId, files);
  return { exclusion: kbExclusion({ files, youlabignore: patterns, maxFileBytes }), errors };
}

async function readIgnoreFile(store: WorkspaceStore, userId: string, files: readonly FileEntry[]): Promise<{ patterns: string[]; errors: string[] }> {
  const entry = files.find((f) => f.path === YOULABIGNORE);
  if (!entry) return { patterns: [], errors: [] };
  if (entry.size > MAX_IGNORE_FILE_BYTES) return { patterns: [], errors: [`${YOULABIGNORE} is over ${MAX_IGNORE_FILE_BYTES} bytes: not read`] };
  let text: string;
  try {
    const { stream } = await store.read(userId, YOULABIGNORE);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
    text = Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    // Deleted since the listing: the workspace has no rules of its own now. Anything else (a file
    // changing while read) stops the round, rather than run it without rules the user has set.
    if (e instanceof StoreError && e.code === 'not_found') return { patterns: [], errors: [] };
    throw e;
  }
  return parseIgnoreFile(text);
}
