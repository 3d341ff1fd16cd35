// Adversarial paths against EVERY route that takes a path (files GET/PUT/DELETE, versions list
// and restore) and hostile cursors on the change feed, on the REAL hub. A canary folder beside
// the data dir, another user's workspace and the key file must never be read or written.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, rawRequest, startHub, type HubHandle, type RawResponse } from '../helpers/hub.ts';

let hub: HubHandle;
let key: string;
let filesKey: string;
let canaryRoot: string;
let canary: string;
const SECRET = `CANARY-SECRET-${randomBytes(8).toString('hex')}`;
const BOB_SECRET = `BOB-SECRET-${randomBytes(8).toString('hex')}`;
let hostile = 0;

/** Every file (and symlink) under a dir with its content, for "nothing changed" checks. */
async function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    const abs = join(e.parentPath, e.name);
    const rel = abs.slice(dir.length + 1);
    if (skip(rel)) continue;
    if (e.isSymbolicLink()) out[rel] = 'symlink';
    else if (e.isFile()) out[rel] = await readFile(abs, 'utf8').catch(() => '?');
  }
  return out;
}
// Bookkeeping the hub rewrites on its own (hash cache, journal, temp uploads) is not content.
// Alice's own folder (workspace and version store) is checked separately: look-alike names may land there.
// The hub's own state beside each workspace. `.hub/contents/` holds the hub's copy of each content
// it announced (issue 14): bob's secret.txt, written into his workspace by the setup, is copied
// there when the watcher records it, inside bob's own hub folder.
const bookkeeping = (rel: string): boolean => /hash-cache|\.hub\/(tmp|state|contents)|journal/.test(rel) || rel.startsWith('data/alice/');

beforeAll(async () => {
  canaryRoot = await mkdtemp(join(tmpdir(), 'youlab-canary-'));
  canary = join(canaryRoot, 'canary');
  await mkdir(canary);
  await writeFile(join(canary, 'secret.txt'), SECRET);
  const data = join(canaryRoot, 'data');
  await mkdir(data);
  hub = await startHub({ dataDir: data, env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '1000000' } });
  key = await hub.createKey('alice');
  filesKey = await hub.createKey('files');
  await mkdir(join(data, 'bob', 'workspace'), { recursive: true });
  await writeFile(join(data, 'bob', 'workspace', 'secret.txt'), BOB_SECRET);
  await mkdir(join(data, 'alice', 'workspace'), { recursive: true });
  await writeFile(join(data, 'alice', 'workspace', 'ok.txt'), 'ok');
}, 60_000);

afterAll(async () => {
  console.log(`reliability: suite=hostile-paths cases=0 faults=0 hostile=${hostile} lost=0`);
  await hub?.stop();
  if (canaryRoot) await rm(canaryRoot, { recursive: true, force: true });
});

// Relative targets outside alice's workspace: the canary beside the data dir, bob, the key file.
const TARGETS = ['../../../canary/secret.txt', '../../bob/workspace/secret.txt', '../../.youlab-hub/keys.json'];

/** `..` in every encoding we know of, as a replacement for each `../`. */
const DOTDOT: [string, string][] = [
  ['raw', '../'],
  ['%2e%2e/', '%2e%2e/'],
  ['%2E%2E/', '%2E%2E/'],
  ['.%2e/', '.%2e/'],
  ['%2e./', '%2e./'],
  ['..%2f', '..%2f'],
  ['..%2F', '..%2F'],
  ['%2e%2e%2f', '%2e%2e%2f'],
  ['..%5c', '..%5c'],
  ['raw backslash', '..\\'],
  ['double-encoded %252e%252e%252f', '%252e%252e%252f'],
  ['double-encoded ..%252f', '..%252f'],
  ['overlong UTF-8 %c0%ae', '%c0%ae%c0%ae/'],
  ['overlong UTF-8 %c0%2e', '%c0%2e%c0%2e/'],
  ['overlong UTF-8 3-byte %e0%80%ae', '%e0%80%ae%e0%80%ae/'],
  ['overlong slash %c0%af', '..%c0%af'],
  ['overlong backslash %c1%9c', '..%c1%9c'],
  ['%u2216 style', '..%u2216'],
  ['....//', '....//'],
  ['./../', './../'],
];

// Names that look like traversal but are ordinary characters: may be accepted, inside the workspace only.
const LOOKALIKE: [string, string][] = [
  ['one-dot leaders U+2024', encodeURIComponent('\u2024\u2024') + '/'],
  ['fullwidth solidus U+FF0F', encodeURIComponent('..\uFF0F')],
  ['division slash U+2215', encodeURIComponent('..\u2215')],
  ['fullwidth full stops U+FF0E', encodeURIComponent('\uFF0E\uFF0E') + '/'],
  ['NFD e + combining acute', encodeURIComponent('cafe\u0301') + '/'],
  // "..;" is a plain name on every filesystem (no server here strips path parameters).
  ['semicolon ..;/', '..;/'],
];

const OTHER_BAD: [string, string][] = [
  ['absolute', '/etc/passwd'],
  ['absolute encoded', '%2fetc%2fpasswd'],
  ['drive path', 'C:/Windows/win.ini'],
  ['drive path encoded colon', 'C%3A/x.txt'],
  ['drive + backslash', 'C:%5Cx.txt'],
  ['UNC', '%5C%5Cserver%5Cshare'],
  ['NUL', 'a%00b.txt'],
  ['NUL then traversal', 'ok.txt%00/../../../canary/secret.txt'],
  ['newline', 'a%0ab.txt'],
  ['CR LF header injection', 'a%0d%0aX-Evil:%201'],
  ['escape char', 'a%1bb.txt'],
  ['DEL', 'a%7f.txt'],
  ['overlong segment', 'x'.repeat(256)],
  ['overlong multi-byte segment', encodeURIComponent('é'.repeat(130))],
  ['overlong path', 'abcdefgh/'.repeat(600) + 'x'],
  ['empty segment', 'a//b.txt'],
  ['only a dot', '.'],
  ['trailing slash', 'a/'],
  ['malformed escape', 'a%zz.txt'],
  ['truncated escape', 'a%2'],
  ['lone surrogate', '%ed%a0%80.txt'],
  ['invalid UTF-8', '%ff%fe.txt'],
];
// Windows-reserved names: refused for writes (400); a read answers 400 or 404.
const RESERVED = ['CON', 'prn.txt', 'AUX', 'nul', 'COM1', 'lpt9.md', 'dir/con.txt', 'name.', 'name%20'];

function corpus(): { name: string; path: string; lookalike: boolean }[] {
  const out: { name: string; path: string; lookalike: boolean }[] = [];
  for (const t of TARGETS) {
    for (const [n, dd] of DOTDOT) out.push({ name: `${n} -> ${t}`, path: t.replaceAll('../', dd), lookalike: false });
    for (const [n, dd] of LOOKALIKE) out.push({ name: `${n} -> ${t}`, path: t.replaceAll('../', dd), lookalike: true });
    out.push({ name: `prefixed ${t}`, path: `ok-dir/${t}`, lookalike: false });
  }
  for (const [n, p] of OTHER_BAD) out.push({ name: n, path: p, lookalike: false });
  return out;
}

const ROUTES: { name: string; send: (p: string) => Promise<RawResponse> }[] = [
  { name: 'GET files', send: (p) => rawRequest(hub.url, { path: `/users/alice/workspace/files/${p}`, headers: auth(key) }) },
  {
    name: 'PUT files (create)',
    send: (p) =>
      rawRequest(hub.url, {
        method: 'PUT',
        path: `/users/alice/workspace/files/${p}`,
        headers: { ...auth(key), 'if-none-match': '*', 'content-type': 'application/octet-stream' },
        body: 'pwned',
      }),
  },
  {
    name: 'PUT files (replace any)',
    send: (p) =>
      rawRequest(hub.url, {
        method: 'PUT',
        path: `/users/alice/workspace/files/${p}`,
        headers: { ...auth(key), 'if-match': '*', 'content-type': 'application/octet-stream' },
        body: 'pwned',
      }),
  },
  {
    name: 'DELETE files',
    send: (p) => rawRequest(hub.url, { method: 'DELETE', path: `/users/alice/workspace/files/${p}`, headers: { ...auth(key), 'if-match': '*' } }),
  },
  { name: 'GET versions', send: (p) => rawRequest(hub.url, { path: `/users/alice/workspace/versions/${p}`, headers: auth(key) }) },
  {
    name: 'POST versions restore',
    send: (p) =>
      rawRequest(hub.url, {
        method: 'POST',
        path: `/users/alice/workspace/versions/${p}/restore`,
        headers: { ...auth(key), 'content-type': 'application/json' },
        body: JSON.stringify({ version_id: '0000000000000-00000000' }),
      }),
  },
];

function expectSafe(r: RawResponse, label: string): void {
  expect(r.text, label).not.toContain(SECRET);
  expect(r.text, label).not.toContain(BOB_SECRET);
  expect(r.text, label).not.toMatch(/"keys"\s*:|ylk_/);
  expect(r.status, label).not.toBe(500);
}

describe('hostile paths on every route', { timeout: 90_000 }, () => {
  it('traversal in every encoding, absolute/drive/UNC paths, control chars, overlong names: 400/403/404, nothing outside touched', async () => {
    const outsideBefore = await snapshot(canaryRoot, bookkeeping);
    const wsBefore = await snapshot(join(hub.dataDir, 'alice', 'workspace'));
    const unexpected: string[] = [];
    for (const c of corpus()) {
      for (const route of ROUTES) {
        hostile++;
        const r = await route.send(c.path);
        const label = `${route.name} ${c.name} (${c.path.slice(0, 80)}) -> ${r.status} ${r.text.slice(0, 120)}`;
        expectSafe(r, label);
        // Look-alikes are ordinary names: they may be created/read inside the workspace.
        const allowed = c.lookalike ? [200, 204, 400, 403, 404, 409, 412] : [400, 403, 404];
        if (!allowed.includes(r.status)) unexpected.push(label);
      }
    }
    expect(unexpected).toEqual([]);
    expect(await snapshot(canaryRoot, bookkeeping)).toEqual(outsideBefore);
    // Only look-alike names may have appeared in the workspace, and ok.txt is untouched.
    const wsAfter = await snapshot(join(hub.dataDir, 'alice', 'workspace'));
    expect(wsAfter['ok.txt']).toBe('ok');
    for (const p of Object.keys(wsAfter)) if (!(p in wsBefore)) expect(p, 'new file in the workspace').toMatch(/[\u2024\uFF0F\u2215\uFF0E]|cafe|\.\.;/);
  });

  it('Windows-reserved names are refused for writes and never resolve to devices', async () => {
    for (const n of RESERVED) {
      hostile += 2;
      const put = await ROUTES[1]!.send(n);
      expect(put.status, n).toBe(400);
      const get = await ROUTES[0]!.send(n);
      expect([400, 404], n).toContain(get.status);
    }
  });

  it('hostile change-feed cursors answer 400 or a reset, never 500 or another user', async () => {
    for (const since of ['../../bob', '%2e%2e%2fbob', 'bob:1', '-1', '9'.repeat(400), '%00', 'x:99999999999999999999', '__proto__']) {
      hostile++;
      const r = await rawRequest(hub.url, { path: `/users/alice/workspace/changes?since=${since}&wait=0`, headers: auth(key) });
      expectSafe(r, since);
      expect([200, 400], since).toContain(r.status);
      if (r.status === 200) expect(r.json<{ reset?: boolean; changes: unknown[] }>().changes).toEqual([]);
    }
    for (const wait of ['-1', 'abc', '1e999', '0x10']) {
      hostile++;
      const r = await rawRequest(hub.url, { path: `/users/alice/workspace/changes?wait=${wait}`, headers: auth(key) });
      expect([200, 400], wait).toContain(r.status);
    }
  });

  it('hostile user ids, even with the service key (which may act for any user): 400/404, nothing outside touched', async () => {
    const service = await hub.createKey(null, { service: true });
    const before = await snapshot(canaryRoot, bookkeeping);
    const ids = ['..', '.', '%2e%2e', '.youlab-hub', '.hub', 'alice%2f..%2fbob', 'alice%2F..%2F..%2Fcanary', '..%5c..%5ccanary', 'alice%00', '%c0%ae%c0%ae', 'a'.repeat(200), '-rf', 'alice;bob'];
    for (const id of ids) {
      for (const [method, path] of [
        ['GET', `/users/${id}/workspace/files`],
        ['GET', `/users/${id}/workspace/files/secret.txt`],
        ['PUT', `/users/${id}/workspace/files/x.txt`],
        ['GET', `/users/${id}/workspace/changes?wait=0`],
        ['GET', `/users/${id}/workspace/versions/secret.txt`],
      ] as const) {
        hostile++;
        const r = await rawRequest(hub.url, {
          method,
          path,
          headers: { ...auth(service), ...(method === 'PUT' ? { 'if-none-match': '*' } : {}) },
          ...(method === 'PUT' ? { body: 'pwned' } : {}),
        });
        expectSafe(r, `${method} ${path}`);
        expect([400, 404], `${method} ${path} -> ${r.status} ${r.text.slice(0, 100)}`).toContain(r.status);
      }
    }
    expect(await snapshot(canaryRoot, bookkeeping)).toEqual(before);
  });

  it('a user named like a route segment ("files") still gets exactly the path asked for', async () => {
    hostile++;
    const put = await rawRequest(hub.url, {
      method: 'PUT',
      path: '/users/files/workspace/files/a.txt',
      headers: { ...auth(filesKey), 'if-none-match': '*' },
      body: 'hello',
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json<{ path: string }>().path).toBe('a.txt');
    expect(await readFile(join(hub.dataDir, 'files', 'workspace', 'a.txt'), 'utf8')).toBe('hello');
  });

  it('symlinks inside the workspace pointing outside: no route reads, writes, versions or restores through them', async () => {
    const ws = join(hub.dataDir, 'alice', 'workspace');
    await symlink(canary, join(ws, 'outdir'));
    await symlink(join(canary, 'secret.txt'), join(ws, 'out.txt'));
    try {
      const before = await snapshot(canaryRoot, bookkeeping);
      for (const p of ['outdir/secret.txt', 'out.txt', 'outdir/new.txt', 'outdir']) {
        for (const route of ROUTES) {
          hostile++;
          const r = await route.send(p);
          expectSafe(r, `${route.name} ${p}`);
          // Listing versions reads only the version store (keyed by path), so an empty list is fine.
          if (route.name === 'GET versions' && r.status === 200) expect(r.json<{ versions: unknown[] }>().versions).toEqual([]);
          else expect([400, 404, 409, 412], `${route.name} ${p} -> ${r.status}`).toContain(r.status);
        }
      }
      const list = await rawRequest(hub.url, { path: '/users/alice/workspace/files', headers: auth(key) });
      expect(list.text).not.toMatch(/outdir|out\.txt/);
      expect(await snapshot(canaryRoot, bookkeeping)).toEqual(before);
      expect((await lstat(join(ws, 'out.txt'))).isSymbolicLink()).toBe(true);
    } finally {
      await rm(join(ws, 'outdir'));
      await rm(join(ws, 'out.txt'));
    }
  });

  it('a workspace folder replaced by a symlink to the outside: nothing listed, read or written there', async () => {
    const dave = await hub.createKey('dave');
    const home = join(hub.dataDir, 'dave');
    await mkdir(join(home, 'workspace'), { recursive: true });
    await writeFile(join(home, 'workspace', 'mine.txt'), 'mine');
    // Make sure the hub knows the user, then swap the folder for a link.
    await rawRequest(hub.url, { path: '/users/dave/workspace/files', headers: auth(dave) });
    await rename(join(home, 'workspace'), join(home, 'workspace-real'));
    await symlink(canary, join(home, 'workspace'));
    const before = await snapshot(canaryRoot, bookkeeping);
    const calls: [string, () => Promise<RawResponse>][] = [
      ['list', () => rawRequest(hub.url, { path: '/users/dave/workspace/files', headers: auth(dave) })],
      ['get', () => rawRequest(hub.url, { path: '/users/dave/workspace/files/secret.txt', headers: auth(dave) })],
      [
        'put',
        () =>
          rawRequest(hub.url, { method: 'PUT', path: '/users/dave/workspace/files/new.txt', headers: { ...auth(dave), 'if-none-match': '*' }, body: 'x' }),
      ],
      [
        'replace',
        () =>
          rawRequest(hub.url, { method: 'PUT', path: '/users/dave/workspace/files/secret.txt', headers: { ...auth(dave), 'if-match': '*' }, body: 'x' }),
      ],
      ['delete', () => rawRequest(hub.url, { method: 'DELETE', path: '/users/dave/workspace/files/secret.txt', headers: { ...auth(dave), 'if-match': '*' } })],
      ['versions', () => rawRequest(hub.url, { path: '/users/dave/workspace/versions/secret.txt', headers: auth(dave) })],
    ];
    for (const [name, call] of calls) {
      hostile++;
      const r = await call();
      expectSafe(r, name);
      // The version store is keyed by path and lives beside the workspace: an empty list reads nothing there.
      if (name === 'versions' && r.status === 200) expect(r.json<{ versions: unknown[] }>().versions).toEqual([]);
      else expect(r.status, `${name} -> ${r.status} ${r.text}`).toBeGreaterThanOrEqual(400);
      if (name === 'list') expect(r.text).not.toContain('secret.txt');
    }
    expect(await snapshot(canaryRoot, bookkeeping)).toEqual(before);
  });
});
