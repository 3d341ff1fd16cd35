// Workspace file API against the real hub process: CRUD with ETags, conditional writes,
// bad paths, symlinks, type clashes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

const sha = (s: string | Buffer): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

let hub: HubHandle;
let key: string;
const base = (): string => `${hub.url}/users/alice/workspace`;
const ws = (): string => join(hub.dataDir, 'alice', 'workspace');

function put(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base()}/files/${path}`, { method: 'PUT', headers: { ...auth(key), ...headers }, body });
}

async function listPaths(): Promise<string[]> {
  const r = await fetch(`${base()}/files`, { headers: auth(key) });
  const body = (await r.json()) as { files: { path: string }[] };
  return body.files.map((f) => f.path);
}

/** Every file under a folder, relative; to prove "nothing written anywhere". */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() || e.isSymbolicLink()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  // The hub's hash cache is saved on a timer (via a temp file); it is bookkeeping, not content.
  return out.filter((p) => !p.includes('hash-cache')).sort();
}

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey('alice');
});
afterAll(async () => {
  await hub?.stop();
});

describe('basic up/down through the hub API', () => {
  it('creates, lists, reads with ETag, replaces with If-Match, deletes with If-Match', async () => {
    const created = await put('notes/hello.txt', 'hello', { 'if-none-match': '*' });
    expect(created.status).toBe(200);
    expect(created.headers.get('etag')).toBe(`"${sha('hello')}"`);
    expect(await created.json()).toMatchObject({ path: 'notes/hello.txt', hash: sha('hello'), size: 5 });

    const list = (await (await fetch(`${base()}/files`, { headers: auth(key) })).json()) as {
      cursor: string;
      files: { path: string; hash: string; size: number; modified: string }[];
    };
    expect(list.cursor).toMatch(/^[0-9a-z]+:\d+$/);
    expect(list.files).toEqual([expect.objectContaining({ path: 'notes/hello.txt', hash: sha('hello'), size: 5 })]);

    const got = await fetch(`${base()}/files/notes/hello.txt`, { headers: auth(key) });
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(`"${sha('hello')}"`);
    expect(got.headers.get('content-length')).toBe('5');
    expect(await got.text()).toBe('hello');

    const replaced = await put('notes/hello.txt', 'hello world', { 'if-match': `"${sha('hello')}"` });
    expect(replaced.status).toBe(200);
    expect(await readFile(join(ws(), 'notes/hello.txt'), 'utf8')).toBe('hello world');

    const del = await fetch(`${base()}/files/notes/hello.txt`, { method: 'DELETE', headers: { ...auth(key), 'if-match': `"${sha('hello world')}"` } });
    expect(del.status).toBe(204);
    expect(existsSync(join(ws(), 'notes/hello.txt'))).toBe(false);
    // The emptied parent folder goes too.
    expect(existsSync(join(ws(), 'notes'))).toBe(false);
    const gone = await fetch(`${base()}/files/notes/hello.txt`, { headers: auth(key) });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: 'not_found' });
  });

  it('412 on If-Match / If-None-Match mismatch changes nothing', async () => {
    await put('c.txt', 'one', { 'if-none-match': '*' });
    const again = await put('c.txt', 'two', { 'if-none-match': '*' });
    expect(again.status).toBe(412);
    expect(await again.json()).toMatchObject({ error: 'precondition_failed' });
    const stale = await put('c.txt', 'three', { 'if-match': `"${sha('zero')}"` });
    expect(stale.status).toBe(412);
    const staleDel = await fetch(`${base()}/files/c.txt`, { method: 'DELETE', headers: { ...auth(key), 'if-match': `"${sha('zero')}"` } });
    expect(staleDel.status).toBe(412);
    const missing = await put('nope.txt', 'x', { 'if-match': `"${sha('x')}"` });
    expect(missing.status).toBe(412);
    expect(await readFile(join(ws(), 'c.txt'), 'utf8')).toBe('one');
    expect(existsSync(join(ws(), 'nope.txt'))).toBe(false);
  });

  it('428 without a precondition, on PUT and DELETE', async () => {
    const r = await put('d.txt', 'x');
    expect(r.status).toBe(428);
    expect(await r.json()).toMatchObject({ error: 'precondition_required' });
    expect(existsSync(join(ws(), 'd.txt'))).toBe(false);
    await put('d.txt', 'x', { 'if-none-match': '*' });
    const del = await fetch(`${base()}/files/d.txt`, { method: 'DELETE', headers: auth(key) });
    expect(del.status).toBe(428);
    expect(existsSync(join(ws(), 'd.txt'))).toBe(true);
  });

  it('X-Content-SHA256 mismatch answers 400 hash_mismatch and writes nothing', async () => {
    const r = await put('h.txt', 'actual bytes', { 'if-none-match': '*', 'x-content-sha256': sha('other bytes') });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'hash_mismatch' });
    expect(existsSync(join(ws(), 'h.txt'))).toBe(false);
    expect(await readdir(join(hub.dataDir, 'alice', '.hub', 'tmp'))).toEqual([]);
    const ok = await put('h.txt', 'actual bytes', { 'if-none-match': '*', 'x-content-sha256': sha('actual bytes') });
    expect(ok.status).toBe(200);
  });

  it('412 races: of two concurrent conditional PUTs exactly one wins', async () => {
    await put('race.txt', 'base', { 'if-none-match': '*' });
    for (let round = 0; round < 5; round++) {
      const cur = sha(await readFile(join(ws(), 'race.txt')));
      const bodies = [`a${round}`.repeat(2000), `b${round}`.repeat(2000)];
      const rs = await Promise.all(bodies.map((b) => put('race.txt', b, { 'if-match': `"${cur}"` })));
      const statuses = rs.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 412]);
      const winner = bodies[rs.findIndex((r) => r.status === 200)]!;
      expect(await readFile(join(ws(), 'race.txt'), 'utf8')).toBe(winner);
    }
    const creates = await Promise.all(['x', 'y', 'z'].map((b) => put('race-new.txt', b, { 'if-none-match': '*' })));
    expect(creates.filter((r) => r.status === 200)).toHaveLength(1);
    expect(creates.filter((r) => r.status === 412)).toHaveLength(2);
  });

  it('client killed mid-upload: nothing is written and the temp file goes', async () => {
    const { request } = await import('node:http');
    const u = new URL(hub.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path: '/users/alice/workspace/files/half.bin',
        headers: { ...auth(key), 'if-none-match': '*', 'content-length': '100000' },
      });
      req.on('error', () => resolve());
      req.write('x'.repeat(50_000), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await readdir(join(hub.dataDir, 'alice', '.hub', 'tmp'))).length > 0) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await readdir(join(hub.dataDir, 'alice', '.hub', 'tmp'))).toEqual([]);
    expect(existsSync(join(ws(), 'half.bin'))).toBe(false);
    // The hub is fine afterwards.
    expect((await put('half.bin', 'whole', { 'if-none-match': '*' })).status).toBe(200);
  });

  it('file<->folder type clash answers 409 and changes nothing', async () => {
    await put('clash/inner.txt', 'in', { 'if-none-match': '*' });
    const asFile = await put('clash', 'I am a file', { 'if-none-match': '*' });
    expect(asFile.status).toBe(409);
    expect(await asFile.json()).toMatchObject({ error: 'conflict' });
    await put('plain.txt', 'p', { 'if-none-match': '*' });
    const under = await put('plain.txt/child.txt', 'c', { 'if-none-match': '*' });
    expect(under.status).toBe(409);
    expect(await readFile(join(ws(), 'plain.txt'), 'utf8')).toBe('p');
  });

  it('unknown routes and malformed JSON answer JSON errors without stack traces', async () => {
    const r = await fetch(`${hub.url}/nowhere`, { headers: auth(key) });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: 'not_found' });
    const bad = await fetch(`${base()}/versions/c.txt/restore`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: '{"version_id":',
    });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'bad_request' });
    expect(text).not.toMatch(/at .*\.ts/);
  });
});

describe('400 paths', () => {
  const BAD: [string, string][] = [
    ['absolute (double slash)', '//etc/passwd'],
    ['dot-dot', '../escape.txt'],
    ['dot-dot inside', 'a/../../escape.txt'],
    ['dot segment', './x.txt'],
    ['encoded dot-dot', '%2e%2e/escape.txt'],
    ['encoded dot-dot, upper case', '%2E%2E/escape.txt'],
    ['encoded slash', 'a%2F..%2F..%2Fescape.txt'],
    ['double-encoded dot', '%252e%252e/escape.txt'],
    ['backslash', 'a%5C..%5Cescape.txt'],
    ['raw backslash', 'a\\b.txt'],
    ['NUL', 'a%00b.txt'],
    ['control character', 'a%01b.txt'],
    ['DEL', 'a%7Fb.txt'],
    ['overlong segment', 'x'.repeat(300) + '.txt'],
    ['overlong path', ('abcdefgh/').repeat(600) + 'x.txt'],
    ['Windows-reserved CON', 'CON'],
    ['Windows-reserved nul.txt', 'dir/nul.txt'],
    ['trailing dot', 'name.'],
    ['empty segment', 'a//b.txt'],
    ['trailing slash', 'a/'],
    ['malformed escape', 'a%zz.txt'],
  ];

  it.each(BAD)('%s -> 400 and nothing written anywhere', async (_name, path) => {
    const before = await allFiles(hub.dataDir);
    const r = await rawRequest(hub.url, {
      method: 'PUT',
      path: `/users/alice/workspace/files/${path}`,
      headers: { ...auth(key), 'if-none-match': '*', 'content-type': 'application/octet-stream' },
      body: 'evil',
    });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ error: expect.stringMatching(/^bad_(path|request)$/) });
    const get = await rawRequest(hub.url, { path: `/users/alice/workspace/files/${path}`, headers: auth(key) });
    expect([400, 404]).toContain(get.status);
    expect(get.status === 400 || path === 'CON' || path === 'dir/nul.txt' || path === 'name.').toBe(true);
    expect(await allFiles(hub.dataDir)).toEqual(before);
    expect(existsSync(join(hub.dataDir, 'escape.txt'))).toBe(false);
    expect(existsSync(join(hub.dataDir, 'alice', 'escape.txt'))).toBe(false);
  });
});

describe('symlinks are never followed', () => {
  it('a symlink inside the workspace pointing outside is neither listed nor readable nor writable through', async () => {
    const outside = join(hub.dataDir, '..', `outside-${process.pid}-${Date.now()}`);
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await symlink(outside, join(ws(), 'linkdir'));
    await symlink(join(outside, 'secret.txt'), join(ws(), 'link.txt'));
    try {
      const paths = await listPaths();
      expect(paths.some((p) => p.startsWith('link'))).toBe(false);

      const viaDir = await fetch(`${base()}/files/linkdir/secret.txt`, { headers: auth(key) });
      expect([400, 404]).toContain(viaDir.status);
      const viaFile = await fetch(`${base()}/files/link.txt`, { headers: auth(key) });
      expect(viaFile.status).toBe(404);

      const writeDir = await put('linkdir/new.txt', 'pwned', { 'if-none-match': '*' });
      expect(writeDir.status).toBe(400);
      const writeFileLink = await put('link.txt', 'pwned', { 'if-match': `"${sha('secret')}"` });
      expect([409, 412]).toContain(writeFileLink.status);
      const writeFileLink2 = await put('link.txt', 'pwned', { 'if-none-match': '*' });
      expect([409, 412]).toContain(writeFileLink2.status);
      const del = await fetch(`${base()}/files/link.txt`, { method: 'DELETE', headers: { ...auth(key), 'if-match': `"${sha('secret')}"` } });
      expect(del.status).toBe(404);

      expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
      expect(await readdir(outside)).toEqual(['secret.txt']);
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(join(ws(), 'linkdir'));
      await rm(join(ws(), 'link.txt'));
      await rm(outside, { recursive: true, force: true });
    }
  });
});
