// The knowledge-base section's Open WebUI: one real Open WebUI (the venv of
// scripts/openwebui-install.sh), started offline on 127.0.0.1 by tests/helpers/openwebui.ts with
// its local embeddings server, and what the bench asks it as the admin: create a KB, how many
// files a KB lists, whether a KB lists given bytes. Completion is always read from this API,
// never from what a tool prints.
import { createHash } from 'node:crypto';
import got, { type Got } from 'got';
import { OPENWEBUI_VENV, realOpenWebUIInstalled, startRealOpenWebUI, type OpenWebUITarget } from '../../helpers/openwebui.ts';
import { waitFor } from '../procs.ts';
import { processTree } from '../rss.ts';

export interface KbServer {
  target: OpenWebUITarget;
  admin: Got;
  stop: () => Promise<void>;
}

interface ListedFile {
  id: string;
  filename?: string;
  meta?: { file_hash?: string | null } | null;
}

/** Starts Open WebUI, or says why it cannot (the rows become gaps with that reason). */
export async function startKbServer(): Promise<KbServer | string> {
  if (!realOpenWebUIInstalled()) return `no Open WebUI in ${OPENWEBUI_VENV}: run scripts/openwebui-install.sh (installs torch and open-webui, several GB)`;
  const before = new Set(processTree(process.pid));
  const target = await startRealOpenWebUI(300_000);
  const unguard = guardOnExit(before);
  const admin = got.extend({
    prefixUrl: target.url,
    headers: { authorization: `Bearer ${target.adminApiKey}` },
    retry: { limit: 0 },
    timeout: { request: 60_000 },
  });
  return { target, admin, stop: () => target.stop().finally(unguard) };
}

/**
 * Open WebUI runs in a process group of its own that procs.ts does not know of (the helper starts
 * it): if the bench is interrupted, the processes that appeared under ours while it started are
 * killed by their ids on exit, so no Open WebUI outlives a Ctrl-C.
 */
function guardOnExit(before: Set<number>): () => void {
  const pids = processTree(process.pid).filter((p) => !before.has(p));
  const kill = () => {
    for (const p of pids) {
      try {
        process.kill(-p, 'SIGKILL');
      } catch {
        // not a group leader, or already gone
      }
    }
  };
  process.on('exit', kill);
  return () => process.off('exit', kill);
}

/** A new, empty KB owned by the admin. */
export async function createKb(s: KbServer, name: string): Promise<string> {
  const kb = await s.admin.post('api/v1/knowledge/create', { json: { name, description: 'youlab bench' } }).json<{ id: string }>();
  return kb.id;
}

/** How many files the KB lists (the admin may ask for a page of 1 and read the total). */
export async function kbFileCount(s: KbServer, kbId: string): Promise<number> {
  const r = await s.admin(`api/v1/knowledge/${kbId}/files`, { searchParams: { page: 1, limit: 1 } }).json<{ total?: number }>();
  return r.total ?? 0;
}

/** Resolves when the KB lists `n` files; polled every `everyMs`. */
export async function waitKbCount(s: KbServer, kbId: string, n: number, timeoutMs: number, everyMs = 200): Promise<void> {
  let last = -1;
  try {
    await waitFor(`${n} files in the KB`, async () => ((last = await kbFileCount(s, kbId)) >= n ? true : undefined), timeoutMs, everyMs);
  } catch (e) {
    throw new Error(`${(e as Error).message} (it lists ${last})`);
  }
}

export const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Whether the KB lists a file named `filename` holding exactly these bytes. Open WebUI keeps the
 * sha-256 of the raw bytes in `meta.file_hash` (computed on upload, or sent by oikb), and a KB
 * lists a file only once it is processed and linked, for both tools. Note names are unique in
 * the tree, so a search by name finds the old and the new file, nothing else.
 */
export async function kbHasBytes(s: KbServer, kbId: string, filename: string, hash: string): Promise<boolean> {
  const r = await s.admin(`api/v1/knowledge/${kbId}/files`, { searchParams: { page: 1, limit: 20, query: filename } }).json<{ items?: ListedFile[] }>();
  return (r.items ?? []).some((f) => f.filename === filename && f.meta?.file_hash === hash);
}
