// History and trash (docs/SYNC-SPEC.md "Kept versions"; what the desktop app's Version history and
// Deleted files call): the hub's GET /deleted and a kept version's bytes, and the engine's history
// API over them and the client trash. A real hub, real engines on real folders.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncEngine } from '../../app/sync/engine.ts';
import { makeClient, makeRoot, type TestClient } from '../helpers/client.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };
let key: string;
let a: TestClient;
let b: TestClient;

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey('hist');
  root = await makeRoot('youlab-history-');
  a = await makeClient(root.dir, 'a', hub.url, key);
  b = await makeClient(root.dir, 'b', hub.url, key);
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

function engineOf(c: TestClient, serverUrl = hub.url): SyncEngine {
  return new SyncEngine({ serverUrl, apiKey: key, folder: c.folder, stateDir: c.stateDir, device: c.name, live: false });
}

interface DeletedAnswer {
  files: { path: string; versions: { id: string; size: number; reason: string }[] }[];
  truncated: boolean;
}

describe('hub: GET /deleted and a version\'s bytes', { timeout: 120_000 }, () => {
  it('lists paths the workspace no longer holds with their versions, most recent first; live files are not listed', async () => {
    await a.write('keep.md', 'v1\n');
    await a.write('old/one.md', 'one\n');
    await a.write('two.md', 'two\n');
    await a.sync();
    await a.write('keep.md', 'v2, longer\n');
    await rm(join(a.folder, 'old'), { recursive: true });
    await a.sync();
    await rm(join(a.folder, 'two.md'));
    await a.sync();

    const res = await fetch(`${hub.url}/users/hist/workspace/deleted`, { headers: auth(key) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DeletedAnswer;
    expect(body.truncated).toBe(false);
    expect(body.files.map((f) => f.path)).toEqual(['two.md', 'old/one.md']);
    expect(body.files[0]!.versions).toMatchObject([{ size: 4, reason: 'delete' }]);

    // The bytes of a kept version, with its hash as the ETag: what the preview shows.
    const v = body.files[1]!.versions[0]!;
    const bytes = await fetch(`${hub.url}/users/hist/workspace/versions/old/one.md?version_id=${v.id}`, { headers: auth(key) });
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('etag')).toMatch(/^"sha256:[0-9a-f]{64}"$/);
    expect(await bytes.text()).toBe('one\n');
  });

  it('refuses what it must, with JSON errors', async () => {
    const other = await hub.createKey('someone-else');
    const forbidden = await fetch(`${hub.url}/users/hist/workspace/deleted`, { headers: auth(other) });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: string }).error).toBeTruthy();
    expect((await fetch(`${hub.url}/users/hist/workspace/deleted`)).status).toBe(401);
    const unknown = await fetch(`${hub.url}/users/hist/workspace/versions/two.md?version_id=0000000000000-deadbeef`, { headers: auth(key) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found' });
    const malformed = await fetch(`${hub.url}/users/hist/workspace/versions/two.md?version_id=../../keys`, { headers: auth(key) });
    expect(malformed.status).toBe(404);
    const twice = await fetch(`${hub.url}/users/hist/workspace/versions/two.md?version_id=a&version_id=b`, { headers: auth(key) });
    expect(twice.status).toBe(400);
    const escape = await rawRequest(hub.url, { path: '/users/hist/workspace/versions/%2e%2e/x?version_id=0000000000000-deadbeef', headers: auth(key) });
    expect(escape.status).toBe(400);
    expect(escape.json()).toMatchObject({ error: 'bad_path' });
  });
});

describe('engine: history and trash', { timeout: 120_000 }, () => {
  it('lists versions, previews the head of one, and restores a deleted file through the hub', async () => {
    const e = engineOf(a);
    try {
      const versions = await e.history.listVersions('keep.md');
      expect(versions).toMatchObject([{ size: 3, reason: 'overwrite' }]);
      const head = await e.history.versionHead('keep.md', versions[0]!.id, 2);
      expect(Buffer.from(head.bytes).toString()).toBe('v1');
      expect(head.truncated).toBe(true);
      const whole = await e.history.versionHead('keep.md', versions[0]!.id, 1000);
      expect({ text: Buffer.from(whole.bytes).toString(), truncated: whole.truncated }).toEqual({ text: 'v1\n', truncated: false });

      const listed = await e.history.listDeleted();
      const two = listed.entries.find((x) => x.source === 'hub' && x.path === 'two.md')!;
      expect(two).toMatchObject({ size: 4, versions: 1 });
      await e.history.restoreVersion('two.md', two.id);
      expect(await e.syncNow()).toMatchObject({ downloaded: 1, converged: true });
      expect(await a.read('two.md')).toBe('two\n');
      expect((await e.history.listDeleted()).entries.some((x) => x.source === 'hub' && x.path === 'two.md')).toBe(false);
    } finally {
      await e.stop();
    }
  });

  it('a file another device deleted: the hub\'s copy and this computer\'s trash copy are both listed; the trash one goes back into the folder and up to the hub', async () => {
    await a.write('shared/report.md', 'the report\n');
    await a.sync();
    await b.sync();
    await rm(join(b.folder, 'shared', 'report.md'));
    await b.sync();
    await a.sync(); // a moves its copy to its trash
    await expect(a.read('shared/report.md')).rejects.toThrow();

    const e = engineOf(a);
    try {
      const { entries, hubError, trashError } = await e.history.listDeleted();
      expect(hubError).toBeUndefined();
      expect(trashError).toBeUndefined();
      const both = entries.filter((x) => x.path === 'shared/report.md');
      expect(both.map((x) => x.source).sort()).toEqual(['hub', 'trash']);
      const times = entries.map((x) => x.deletedAt);
      expect(times).toEqual([...times].sort().reverse());

      const trash = both.find((x) => x.source === 'trash')!;
      expect(await e.history.restoreFromTrash(trash.id)).toEqual({ path: 'shared/report.md' });
      expect(await a.read('shared/report.md')).toBe('the report\n');
      expect((await e.history.listDeleted()).entries.some((x) => x.source === 'trash' && x.id === trash.id)).toBe(false);
      expect(await e.syncNow()).toMatchObject({ uploaded: 1, converged: true });
      expect(await readFile(join(hub.dataDir, 'hist', 'workspace', 'shared', 'report.md'), 'utf8')).toBe('the report\n');
      await expect(e.history.restoreFromTrash(trash.id)).rejects.toThrow(/no longer in the trash/);
    } finally {
      await e.stop();
    }
  });

  it('restoring from the trash over a different file keeps that file in the trash first; a folder in the way is refused', async () => {
    await a.write('notes.txt', 'old words\n');
    await a.sync();
    await b.sync();
    await b.write('notes.txt', 'new words\n');
    await b.sync();
    await a.sync(); // the download keeps "old words" in a's trash
    const e = engineOf(a);
    try {
      const kept = (await e.history.listDeleted()).entries.find((x) => x.source === 'trash' && x.path === 'notes.txt')!;
      expect(kept).toBeDefined();
      await e.history.restoreFromTrash(kept.id);
      expect(await a.read('notes.txt')).toBe('old words\n');
      const trashNow = (await e.history.listDeleted()).entries.filter((x) => x.source === 'trash' && x.path === 'notes.txt');
      expect(trashNow).toHaveLength(1);
      expect(await readFile(join(a.stateDir, 'trash', ...trashNow[0]!.id.split('/')), 'utf8')).toBe('new words\n');

      // A folder now holds the name: refused, the trash copy stays.
      await rm(join(a.folder, 'notes.txt'));
      await mkdir(join(a.folder, 'notes.txt'));
      await writeFile(join(a.folder, 'notes.txt', 'inside.md'), 'x');
      await expect(e.history.restoreFromTrash(trashNow[0]!.id)).rejects.toThrow(/a folder or link has that name/);
      expect((await e.history.listDeleted()).entries.some((x) => x.id === trashNow[0]!.id)).toBe(true);
      await rm(join(a.folder, 'notes.txt'), { recursive: true });
      await expect(e.history.restoreFromTrash('../../../etc/passwd')).rejects.toThrow(/no longer in the trash/);
    } finally {
      await e.stop();
    }
  });

  it('with the hub unreachable the trash is still listed, and the hub\'s half says why', async () => {
    const e = engineOf(a, 'http://127.0.0.1:9');
    try {
      const out = await e.history.listDeleted();
      expect(out.hubError).toBeTruthy();
      expect(out.entries.length).toBeGreaterThan(0);
      expect(out.entries.every((x) => x.source === 'trash')).toBe(true);
    } finally {
      await e.stop();
    }
    expect((await readdir(join(a.stateDir, 'trash'))).length).toBeGreaterThan(0);
  });
});
