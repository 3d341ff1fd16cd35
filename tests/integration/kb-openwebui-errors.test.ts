// Errors from Open WebUI are reported as such (server/README.md "Knowledge-base sync"): a route
// that answers the web app's HTML page (what a real server serves for a path it does not know) or
// an error makes `POST .../sync` answer 502 `openwebui_error` with what Open WebUI said, never 500
// `internal`; `GET .../status` carries the same message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, type HubHandle } from '../helpers/hub.ts';
import { startEmulatorTarget, startHubWithOpenWebUI, type OpenWebUITarget } from '../helpers/openwebui.ts';

describe('Open WebUI errors through a real hub (emulated Open WebUI)', () => {
  let target: OpenWebUITarget;
  let hub: HubHandle;
  let uid: string;
  let key: string;
  const base = (): string => `${hub.url}/users/${uid}/workspace`;
  const post = () => fetch(`${base()}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{}' });

  beforeAll(async () => {
    target = await startEmulatorTarget();
    uid = (await target.createUser('Student')).id;
    hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_DEBOUNCE_MS: '600000', RALPH_SYNC_DEBOUNCE_MAX_MS: '600000' });
    key = await hub.createKey(uid);
    const put = await fetch(`${base()}/files/notes.md`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body: 'plants\n' });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
  });

  it('a route answering the HTML page: 502 openwebui_error naming the route and the page, the same message in /status', async () => {
    // The KB list answers the web page, like a route the release does not have.
    target.emulator!.faults.http.push({ method: 'GET', path: /^\/api\/v1\/knowledge\/$/, count: 1, kind: 'html' });
    const r = await post();
    expect(r.status).toBe(502);
    const body = (await r.json()) as { error: string; message: string };
    expect(body.error).toBe('openwebui_error');
    expect(body.message).toMatch(/^api\/v1\/knowledge\/: answer is not JSON: 200 with its web page \("Open WebUI"\)$/);
    const st = (await (await fetch(`${base()}/status`, { headers: auth(key) })).json()) as { last_error?: string; files: { path: string; state: string }[] };
    expect(st.last_error).toBe(body.message);
    expect(st.files).toEqual([expect.objectContaining({ path: 'notes.md', state: 'pending' })]);

    // Open WebUI fixed: the next round goes through and the error is gone from the status.
    const ok = await post();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ uploaded: ['notes.md'] });
    const after = (await (await fetch(`${base()}/status`, { headers: auth(key) })).json()) as { last_error?: string };
    expect(after.last_error).toBeUndefined();
  });

  it("an error answer (400 with a detail) is a 502 with Open WebUI's detail, not a 500", async () => {
    target.emulator!.faults.http.push({ method: 'GET', path: /^\/api\/v1\/knowledge\/[^/]+\/files$/, count: 1, kind: { status: 400 } });
    const r = await post();
    expect(r.status).toBe(502);
    expect(await r.json()).toEqual({ error: 'openwebui_error', message: expect.stringMatching(/\/files: 400 injected fault$/) });
  });
});
