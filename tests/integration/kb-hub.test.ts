// The KB sync inside a real hub process (bin/youlab-hub.js) against the emulator: changes made
// through the hub API or straight into the workspace folder reach the KB within 10 s, the
// /sync and /status endpoints answer as documented, and a hub with no Open WebUI says so.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';
import { asUser, kbOf, startEmulatorTarget, startHubWithOpenWebUI, waitFor, type OpenWebUITarget } from '../helpers/openwebui.ts';

const PROPAGATION_MS = 10_000;

describe('KB sync in a real hub (emulated Open WebUI)', () => {
  let target: OpenWebUITarget;
  let hub: HubHandle;
  let uid: string;
  let userToken: string;
  let key: string;
  const base = (): string => `${hub.url}/users/${uid}/workspace`;
  const put = async (path: string, body: string): Promise<Response> => {
    const cur = await fetch(`${base()}/files/${path}`, { method: 'HEAD', headers: auth(key) });
    const pre: Record<string, string> = cur.status === 200 ? { 'if-match': cur.headers.get('etag')! } : { 'if-none-match': '*' };
    return fetch(`${base()}/files/${path}`, { method: 'PUT', headers: { ...auth(key), ...pre }, body });
  };

  beforeAll(async () => {
    target = await startEmulatorTarget();
    const u = await target.createUser('Student');
    uid = u.id; // the hub user id is the Open WebUI user id
    userToken = u.token;
    hub = await startHubWithOpenWebUI(target);
    key = await hub.createKey(uid);
  });
  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
  });

  it('a file PUT through the hub API reaches the KB within 10 s, edits and deletes too', async () => {
    expect((await put('notes/plan.md', 'first plan\n')).status).toBe(200);
    await waitFor(async () => (await kbOf(target, uid))?.paths.includes('notes/plan.md'), PROPAGATION_MS, 'notes/plan.md in the KB');
    const firstIds = (await kbOf(target, uid))!.ids;

    expect((await put('notes/plan.md', 'second plan\n')).status).toBe(200);
    await waitFor(
      async () => {
        const kb = await kbOf(target, uid);
        return kb && kb.paths.includes('notes/plan.md') && !kb.ids.some((i) => firstIds.includes(i));
      },
      PROPAGATION_MS,
      'the edit in the KB',
    );
    const emu = target.emulator!;
    const inKb = [...emu.files.values()].filter((f) => f.meta.data.path === 'notes/plan.md');
    expect(inKb.map((f) => f.bytes.toString())).toEqual(['second plan\n']);

    const etag = (await fetch(`${base()}/files/notes/plan.md`, { method: 'HEAD', headers: auth(key) })).headers.get('etag')!;
    expect((await fetch(`${base()}/files/notes/plan.md`, { method: 'DELETE', headers: { ...auth(key), 'if-match': etag } })).status).toBe(204);
    await waitFor(async () => !(await kbOf(target, uid))?.paths.includes('notes/plan.md'), PROPAGATION_MS, 'the delete in the KB');
  });

  it('a file the agent writes straight into the workspace folder reaches the KB within 10 s', async () => {
    const dir = join(hub.dataDir, uid, 'workspace', 'agent');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'report.md'), '# Report written by Ralph\n');
    await waitFor(async () => (await kbOf(target, uid))?.paths.includes('agent/report.md'), PROPAGATION_MS, 'agent/report.md in the KB');
  });

  it('POST /sync validates its body and returns a summary; GET /status reports per-file state', async () => {
    const bad = await fetch(`${base()}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify({ direction: 'sideways' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request', message: expect.stringContaining('invalid') });

    // A file uploaded by the user in the web UI comes back on a bidirectional sync.
    const web = asUser(target, userToken);
    const kb = (await kbOf(target, uid))!;
    const fid = await web.upload('from-browser.md', 'dropped into the KB in the browser\n');
    await web.waitProcessed(fid);
    await web.addToKnowledge(kb.id, fid);

    const ok = await fetch(`${base()}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify({ direction: 'bidirectional' }) });
    expect(ok.status).toBe(200);
    const summary = (await ok.json()) as { knowledge_id: string; downloaded: string[]; direction: string };
    expect(summary).toMatchObject({ knowledge_id: kb.id, direction: 'bidirectional' });
    // The debounced round may have fetched it already; either way it is in the workspace now.
    expect(await readFile(join(hub.dataDir, uid, 'workspace', 'from-browser.md'), 'utf8')).toBe('dropped into the KB in the browser\n');

    await put('skip.bin', 'binary-ish');
    await fetch(`${base()}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{"direction":"to_openwebui"}' });
    const st = await fetch(`${base()}/status`, { headers: auth(key) });
    expect(st.status).toBe(200);
    const body = (await st.json()) as {
      openwebui: { configured: boolean; version: string };
      knowledge_id: string;
      last_sync: string;
      files: { path: string; state: string; reason?: string }[];
    };
    expect(body.openwebui).toMatchObject({ configured: true, version: target.version });
    expect(body.knowledge_id).toBe(kb.id);
    expect(Date.parse(body.last_sync)).toBeGreaterThan(0);
    const byPath = Object.fromEntries(body.files.map((f) => [f.path, [f.state, f.reason]]));
    expect(byPath['agent/report.md']).toEqual(['synced', undefined]);
    expect(byPath['from-browser.md']).toEqual(['synced', undefined]);
    expect(byPath['skip.bin']).toEqual(['ignored', 'unsupported_type']);
  });

  it("another user's key cannot trigger or read this user's KB sync", async () => {
    const otherKey = await hub.createKey('someone-else');
    const r = await fetch(`${base()}/sync`, { method: 'POST', headers: { ...auth(otherKey), 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(403);
    expect((await fetch(`${base()}/status`, { headers: auth(otherKey) })).status).toBe(403);
  });
});

describe('the background scheduler', () => {
  it('runs a round every RALPH_SYNC_INTERVAL seconds: a web-UI upload arrives with no trigger', async () => {
    const target = await startEmulatorTarget();
    const u = await target.createUser('Scheduled');
    const hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_INTERVAL: '1' });
    try {
      const key = await hub.createKey(u.id);
      const put = await fetch(`${hub.url}/users/${u.id}/workspace/files/first.md`, {
        method: 'PUT',
        headers: { ...auth(key), 'if-none-match': '*' },
        body: 'gives the user a workspace\n',
      });
      expect(put.status).toBe(200);
      const kb = await waitFor(async () => {
        const k = await kbOf(target, u.id);
        return k?.paths.includes('first.md') ? k : undefined;
      }, 10_000, 'the KB with first.md');
      // From here on nothing changes in the workspace: only the interval can bring the upload in.
      const web = asUser(target, u.token);
      const fid = await web.upload('scheduled.md', 'arrives on its own\n');
      await web.waitProcessed(fid);
      await web.addToKnowledge(kb.id, fid);
      await waitFor(
        async () => (await fetch(`${hub.url}/users/${u.id}/workspace/files/scheduled.md`, { headers: auth(key) })).status === 200,
        10_000,
        'scheduled.md in the workspace',
      );
    } finally {
      await hub.stop();
      await target.stop();
    }
  });
});

describe('a hub with no Open WebUI configured', () => {
  let hub: HubHandle;
  let key: string;
  beforeAll(async () => {
    hub = await startHub({ env: { RALPH_OPENWEBUI_URL: '', RALPH_OPENWEBUI_API_KEY: '' } });
    key = await hub.createKey('alice');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('status says so, /sync answers 503 openwebui_unavailable, files still work', async () => {
    const st = await fetch(`${hub.url}/users/alice/workspace/status`, { headers: auth(key) });
    expect(st.status).toBe(200);
    expect(await st.json()).toMatchObject({ openwebui: { configured: false, reason: expect.stringContaining('RALPH_OPENWEBUI_URL') }, knowledge_id: null });
    const sync = await fetch(`${hub.url}/users/alice/workspace/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{"direction":"bidirectional"}' });
    expect(sync.status).toBe(503);
    expect(await sync.json()).toMatchObject({ error: 'openwebui_unavailable' });
    const put = await fetch(`${hub.url}/users/alice/workspace/files/a.md`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body: 'a' });
    expect(put.status).toBe(200);
  });
});

describe('a hub whose Open WebUI is down', () => {
  it('answers /sync with 503 openwebui_unavailable and reports it unreachable in /status', async () => {
    // A port that was free a moment ago: nothing listens there.
    const srv = (await import('node:net')).createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    await new Promise<void>((r) => srv.close(() => r()));
    const hub = await startHub({ env: { RALPH_OPENWEBUI_URL: `http://127.0.0.1:${port}`, RALPH_OPENWEBUI_API_KEY: 'sk-x' } });
    try {
      const key = await hub.createKey('bob');
      const r = await fetch(`${hub.url}/users/bob/workspace/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{}' });
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ error: 'openwebui_unavailable' });
      const st = await fetch(`${hub.url}/users/bob/workspace/status`, { headers: auth(key) });
      expect(await st.json()).toMatchObject({ openwebui: { configured: true, reachable: false } });
    } finally {
      await hub.stop();
    }
  });
});

