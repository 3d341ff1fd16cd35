// Shared plumbing for the whole-round model tests: replicas on disk, the set of contents that
// must stay recoverable, and a hub client that talks to the real hub as "Ralph" (service key).
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePathForUrl } from '../../shared/paths.ts';

/** Every regular file under `dir` (recursive), as relative path -> content. Missing dir: empty. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(abs);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const a = join(abs, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = await lstat(a).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(a, r);
      else if (st.isFile()) {
        // A file gone between lstat and read (a temp file renamed into place meanwhile) is not a
        // content of this moment: skipped, never recorded as '' (which no replica ever held).
        const text = await readFile(a, 'utf8').catch(() => undefined);
        if (text !== undefined) out.set(r, text);
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** All contents held anywhere under the given dirs. */
export async function contentsUnder(dirs: string[]): Promise<Set<string>> {
  const all = new Set<string>();
  for (const d of dirs) for (const v of (await readTree(d)).values()) all.add(v);
  return all;
}

export function sha(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

export interface HubApi {
  put(user: string, path: string, content: string, existing: string | undefined): Promise<number>;
  del(user: string, path: string, existing: string): Promise<number>;
}

export function hubApi(url: string, key: string): HubApi {
  const u = (user: string, path: string) => `${url}/users/${user}/workspace/files/${encodePathForUrl(path)}`;
  return {
    async put(user, path, content, existing) {
      const pre: Record<string, string> = existing === undefined ? { 'if-none-match': '*' } : { 'if-match': `"${sha(existing)}"` };
      const r = await fetch(u(user, path), { method: 'PUT', body: content, headers: { authorization: `Bearer ${key}`, ...pre } });
      await r.arrayBuffer();
      return r.status;
    },
    async del(user, path, existing) {
      const r = await fetch(u(user, path), { method: 'DELETE', headers: { authorization: `Bearer ${key}`, 'if-match': `"${sha(existing)}"` } });
      await r.arrayBuffer();
      return r.status;
    },
  };
}

/** Counters the suites print as `reliability: ...` so docs/RELIABILITY.md can be refreshed. */
export const figures = { cases: 0, ops: 0, faults: 0, hostile: 0, lost: 0 };
export function reportFigures(suite: string): void {
  console.log(`reliability: suite=${suite} cases=${figures.cases} ops=${figures.ops} faults=${figures.faults} hostile=${figures.hostile} lost=${figures.lost}`);
}
