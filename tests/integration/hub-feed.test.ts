// Change feed, the agent writing straight into the workspace, and the version store, against
// the real hub process.
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';
import { writeSlowly } from '../helpers/slow-writer.ts';

const sha = (s: string | Buffer): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

interface Change {
  path: string;
  hash: string | null;
  size?: number;
  source?: string;
}
interface Changes {
  cursor: string;
  changes: Change[];
  reset?: boolean;
}

let hub: HubHandle;
let key: string;
const base = (): string => `${hub.url}/users/alice/workspace`;
const ws = (): string => join(hub.dataDir, 'alice', 'workspace');

async function cursorNow(): Promise<string> {
  const r = (await (await fetch(`${base()}/files`, { headers: auth(key) })).json()) as { cursor: string };
  return r.cursor;
}
async function changes(since: string, wait = 0): Promise<Changes> {
  const r = await fetch(`${base()}/changes?since=${encodeURIComponent(since)}&wait=${wait}`, { headers: auth(key) });
  expect(r.status).toBe(200);
  return (await r.json()) as Changes;
}
/** Follows the feed until `pred` holds for a change, or the timeout. */
async function waitForChange(since: string, pred: (c: Change) => boolean, timeoutMs = 10_000): Promise<{ change: Change; cursor: string }> {
  const deadline = Date.now() + timeoutMs;
  let cursor = since;
  while (Date.now() < deadline) {
    const r = await changes(cursor, 2);
    cursor = r.cursor;
    const hit = r.changes.find(pred);
    if (hit) return { change: hit, cursor };
  }
  throw new Error('change did not arrive in time');
}
const put = (path: string, body: string, headers: Record<string, string>): Promise<Response> =>
  fetch(`${base()}/files/${path}`, { method: 'PUT', headers: { ...auth(key), ...headers }, body });

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey('alice');
});
afterAll(async () => {
  await hub?.stop();
});

describe('change feed', () => {
  it('a long poll returns a PUT made while it waits', async () => {
    const since = await cursorNow();
    const t0 = Date.now();
    const pending = changes(since, 30);
    await new Promise((r) => setTimeout(r, 300));
    expect((await put('feed/a.txt', 'A', { 'if-none-match': '*' })).status).toBe(200);
    const r = await pending;
    expect(Date.now() - t0).toBeLessThan(25_000); // answered by the change, not by the timeout
    expect(r.changes).toEqual([expect.objectContaining({ path: 'feed/a.txt', hash: sha('A'), size: 1, source: 'client' })]);
    expect(r.cursor).not.toBe(since);
    // Nothing new after it: a zero wait answers at once with no changes and the same cursor.
    const again = await changes(r.cursor, 0);
    expect(again).toEqual({ cursor: r.cursor, changes: [] });
  });

  it('deletes appear with hash null', async () => {
    const since = await cursorNow();
    await fetch(`${base()}/files/feed/a.txt`, { method: 'DELETE', headers: { ...auth(key), 'if-match': `"${sha('A')}"` } });
    const r = await changes(since, 5);
    expect(r.changes).toEqual([expect.objectContaining({ path: 'feed/a.txt', hash: null })]);
  });

  it('reset on unknown epoch, malformed or future cursor', async () => {
    const cur = await cursorNow();
    for (const since of ['deadbeef:0', 'garbage', `${cur.split(':')[0]}:999999`]) {
      const r = await changes(since, 5);
      expect(r.reset).toBe(true);
      expect(r.cursor).toBe(cur);
      expect(r.changes).toEqual([]);
    }
  });

  it('a restarted hub answers an old cursor with reset', async () => {
    const old = await cursorNow();
    await hub.restart();
    const r = await changes(old, 1);
    expect(r.reset).toBe(true);
    expect(r.cursor.split(':')[0]).not.toBe(old.split(':')[0]);
  });

  it('rejects a bad wait', async () => {
    const r = await fetch(`${base()}/changes?since=x&wait=-1`, { headers: auth(key) });
    expect(r.status).toBe(400);
  });
});

describe('agent writing straight into the workspace', () => {
  it('a file the agent writes shows up in the feed, and so does its deletion', async () => {
    const since = await cursorNow();
    await mkdir(join(ws(), 'agent'), { recursive: true });
    await writeFile(join(ws(), 'agent', 'report.md'), '# report\n');
    const { change, cursor } = await waitForChange(since, (c) => c.path === 'agent/report.md');
    expect(change).toMatchObject({ hash: sha('# report\n'), size: 9, source: 'agent' });
    const get = await fetch(`${base()}/files/agent/report.md`, { headers: auth(key) });
    expect(get.headers.get('etag')).toBe(`"${sha('# report\n')}"`);

    await rm(join(ws(), 'agent', 'report.md'));
    const del = await waitForChange(cursor, (c) => c.path === 'agent/report.md');
    expect(del.change).toMatchObject({ hash: null, source: 'agent' });
  });

  it('a slowly written file is recorded whole, not half-written', async () => {
    const since = await cursorNow();
    const full = await writeSlowly(join(ws(), 'slow.txt'));
    const { change, cursor } = await waitForChange(since, (c) => c.path === 'slow.txt');
    // The last announcement must be the full content (an early partial one would be followed by it).
    let last = change;
    const more = await changes(cursor, 1);
    for (const c of more.changes) if (c.path === 'slow.txt') last = c;
    expect(last.hash).toBe(sha(full));
  });

  it("the hub's own writes are not echoed as agent changes", async () => {
    const since = await cursorNow();
    await put('own.txt', 'mine', { 'if-none-match': '*' });
    // Give the watcher time to see the rename, then check the feed holds only the client change.
    await new Promise((r) => setTimeout(r, 1200));
    const r = await changes(since, 0);
    const own = r.changes.filter((c) => c.path === 'own.txt');
    expect(own).toEqual([expect.objectContaining({ source: 'client' })]);
  });

  it('NFC/NFD names: a name the agent writes in NFD is announced, listed and served under its NFC path', async () => {
    const since = await cursorNow();
    const nfd = 'cafe\u0301.md';
    const nfc = 'caf\u00e9.md';
    await writeFile(join(ws(), nfd), 'accent');
    const { change } = await waitForChange(since, (c) => c.path === nfc);
    expect(change).toMatchObject({ hash: sha('accent'), source: 'agent' });
    const list = (await (await fetch(`${base()}/files`, { headers: auth(key) })).json()) as { files: { path: string }[] };
    expect(list.files.map((f) => f.path)).toContain(nfc);
    expect(list.files.map((f) => f.path)).not.toContain(nfd);
    const got = await fetch(`${base()}/files/${encodeURIComponent(nfc)}`, { headers: auth(key) });
    expect(await got.text()).toBe('accent');
  });

  it('a new user folder created by the agent is picked up', async () => {
    const frank = await hub.createKey('frank');
    const list = (await (await fetch(`${hub.url}/users/frank/workspace/files`, { headers: auth(frank) })).json()) as { cursor: string };
    await mkdir(join(hub.dataDir, 'frank', 'workspace', 'deep', 'er'), { recursive: true });
    await writeFile(join(hub.dataDir, 'frank', 'workspace', 'deep', 'er', 'f.txt'), 'f');
    const deadline = Date.now() + 10_000;
    let found: Change | undefined;
    let cursor = list.cursor;
    while (!found && Date.now() < deadline) {
      const r = (await (await fetch(`${hub.url}/users/frank/workspace/changes?since=${cursor}&wait=2`, { headers: auth(frank) })).json()) as Changes;
      cursor = r.cursor;
      found = r.changes.find((c) => c.path === 'deep/er/f.txt');
    }
    expect(found).toMatchObject({ hash: sha('f'), source: 'agent' });
  });
});

describe('version store', () => {
  it('keeps overwritten and deleted content, and restore brings it back through the feed', async () => {
    await put('v.txt', 'v1', { 'if-none-match': '*' });
    await put('v.txt', 'v2', { 'if-match': `"${sha('v1')}"` });
    await fetch(`${base()}/files/v.txt`, { method: 'DELETE', headers: { ...auth(key), 'if-match': `"${sha('v2')}"` } });

    const r = await fetch(`${base()}/versions/v.txt`, { headers: auth(key) });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { path: string; versions: { id: string; hash: string; size: number; kept_at: string; reason: string }[] };
    expect(body.path).toBe('v.txt');
    expect(body.versions.map((v) => [v.hash, v.reason])).toEqual([
      [sha('v2'), 'delete'],
      [sha('v1'), 'overwrite'],
    ]);

    const since = await cursorNow();
    const v1 = body.versions[1]!;
    const restored = await fetch(`${base()}/versions/v.txt/restore`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify({ version_id: v1.id }),
    });
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ path: 'v.txt', hash: sha('v1') });
    expect(await (await fetch(`${base()}/files/v.txt`, { headers: auth(key) })).text()).toBe('v1');
    const feed = await changes(since, 5);
    expect(feed.changes).toEqual([expect.objectContaining({ path: 'v.txt', hash: sha('v1'), source: 'restore' })]);

    // Restoring over existing content keeps that content as a version in turn.
    await put('v.txt', 'v3', { 'if-match': `"${sha('v1')}"` });
    const again = await fetch(`${base()}/versions/v.txt/restore`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify({ version_id: body.versions[0]!.id }),
    });
    expect(again.status).toBe(200);
    const after = (await (await fetch(`${base()}/versions/v.txt`, { headers: auth(key) })).json()) as { versions: { hash: string }[] };
    expect(after.versions.map((v) => v.hash)).toContain(sha('v3'));

    const unknown = await fetch(`${base()}/versions/v.txt/restore`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify({ version_id: '0000000000000-00000000' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('versions live outside workspace/ and are never listed', async () => {
    const list = (await (await fetch(`${base()}/files`, { headers: auth(key) })).json()) as { files: { path: string }[] };
    expect(list.files.every((f) => !f.path.includes('.hub') && !f.path.includes('versions'))).toBe(true);
  });
});
