// POST /users/{id}/workspace/sync on a round that takes long (server/README.md "Knowledge-base
// sync"): 202 with a round to follow instead of a connection held open until an idle timeout cuts
// it; the same synchronous 200 as before for a round that ends within RALPH_SYNC_WAIT_MS; rounds
// readable by their user only, kept for a while in memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncRounds } from '../../server/openwebui/sync-rounds.ts';
import type { SyncSummary } from '../../server/openwebui/kb-types.ts';
import { auth, type HubHandle } from '../helpers/hub.ts';
import { startEmulatorTarget, startHubWithOpenWebUI, waitFor, type OpenWebUITarget } from '../helpers/openwebui.ts';

describe('POST /sync through a real hub (emulated Open WebUI)', () => {
  let target: OpenWebUITarget;
  let hub: HubHandle;
  let uid: string;
  let key: string;
  const base = (u = uid): string => `${hub.url}/users/${u}/workspace`;
  const post = (k = key, u = uid) =>
    fetch(`${base(u)}/sync`, { method: 'POST', headers: { ...auth(k), 'content-type': 'application/json' }, body: '{}' });
  const put = async (path: string, body: string): Promise<void> => {
    const r = await fetch(`${base()}/files/${path}`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body });
    expect(r.status).toBe(200);
  };

  beforeAll(async () => {
    target = await startEmulatorTarget();
    uid = (await target.createUser('Student')).id;
    // Rounds start only when asked (a long quiet period), and the hub waits 3 s for one: an empty
    // round ends well within it however busy the machine, and the long rounds below are made to
    // last at least twice that by Open WebUI itself (slow processing, a slow failing answer).
    hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_WAIT_MS: '3000', RALPH_SYNC_DEBOUNCE_MS: '600000', RALPH_SYNC_DEBOUNCE_MAX_MS: '600000' });
    key = await hub.createKey(uid);
  });
  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
  });

  it('a round that ends within the wait is answered 200 with its summary, as before', async () => {
    const r = await post();
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ user_id: uid, uploaded: [], knowledge_name: `workspace-${uid}` });
  });

  it('a longer round is answered 202 with a round to follow, which ends done with the summary', async () => {
    await put('a.md', 'alpha\n');
    await put('b.md', 'bravo\n');
    target.setProcessingDelay(6_000);
    try {
      const r = await post();
      expect(r.status).toBe(202);
      const body = (await r.json()) as { round_id: string; status: string; status_url: string };
      expect(body).toMatchObject({ status: 'running', status_url: `/users/${uid}/workspace/sync/${body.round_id}` });
      expect(r.headers.get('location')).toBe(body.status_url);

      const first = await fetch(`${hub.url}${body.status_url}`, { headers: auth(key) });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ round_id: body.round_id, status: 'running', direction: 'bidirectional' });

      // Another user's key gets the access rules' 403; their own workspace holds no such round.
      const otherId = (await target.createUser('Other')).id;
      const otherKey = await hub.createKey(otherId);
      expect((await fetch(`${hub.url}${body.status_url}`, { headers: auth(otherKey) })).status).toBe(403);
      const theirs = await fetch(`${base(otherId)}/sync/${body.round_id}`, { headers: auth(otherKey) });
      expect(theirs.status).toBe(404);
      expect(await theirs.json()).toMatchObject({ error: 'not_found' });

      const done = await waitFor(
        async () => {
          const v = (await (await fetch(`${hub.url}${body.status_url}`, { headers: auth(key) })).json()) as { status: string; summary?: SyncSummary };
          return v.status !== 'running' && v;
        },
        15_000,
        'the round to end',
      );
      expect(done).toMatchObject({ status: 'done', finished_at: expect.any(String) });
      expect(done.summary!.uploaded).toEqual(['a.md', 'b.md']);
    } finally {
      target.setProcessingDelay(10);
    }
  });

  it('a round that fails after its 202 is reported failed, with the error the 200 path would have sent', async () => {
    await put('c.md', 'charlie\n');
    const emu = target.emulator!;
    // Slow start (the KB lookup answers 503 after 6 s and is retried), then Open WebUI refuses the upload.
    emu.faults.http.push({ method: 'GET', path: /^\/api\/v1\/knowledge\/[^/]+$/, count: 1, kind: { status: 503, delayMs: 6_000 } });
    emu.faults.http.push({ method: 'POST', path: /^\/api\/v1\/files\/?$/, count: 1, kind: { status: 503 } });
    const r = await post();
    expect(r.status).toBe(202);
    const { status_url } = (await r.json()) as { status_url: string };
    const failed = await waitFor(
      async () => {
        const v = (await (await fetch(`${hub.url}${status_url}`, { headers: auth(key) })).json()) as { status: string };
        return v.status !== 'running' && v;
      },
      30_000,
      'the round to fail',
    );
    expect(failed).toMatchObject({ status: 'failed', error: { error: 'openwebui_unavailable' } });
  });

  it('an unknown round id is 404', async () => {
    const r = await fetch(`${base()}/sync/00000000-0000-4000-8000-000000000000`, { headers: auth(key) });
    expect(r.status).toBe(404);
  });
});

describe('SyncRounds: rounds kept in memory', () => {
  const summary = { uploaded: [] } as unknown as SyncSummary;

  it('keeps a finished round for keepMs, per user, and the newest ones within the cap', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const rounds = new SyncRounds({ keepMs: 60_000, perUser: 2, now: () => new Date(now), describe: () => ({ error: 'internal', message: 'x' }) });
    const a = rounds.start('alice', 'bidirectional', Promise.resolve(summary));
    await a.outcome;
    expect(rounds.get('alice', a.id)).toMatchObject({ status: 'done', summary });
    expect(rounds.get('bob', a.id)).toBeUndefined();
    now += 59_000;
    expect(rounds.get('alice', a.id)).toBeDefined();
    now += 2_000;
    expect(rounds.get('alice', a.id)).toBeUndefined();

    // Over the cap the oldest finished round goes; a running one always stays.
    let finish!: (s: SyncSummary) => void;
    const running = rounds.start('alice', 'to_openwebui', new Promise<SyncSummary>((r) => (finish = r)));
    const b = rounds.start('alice', 'bidirectional', Promise.resolve(summary));
    await b.outcome;
    const c = rounds.start('alice', 'bidirectional', Promise.resolve(summary));
    await c.outcome;
    expect(rounds.get('alice', running.id)).toMatchObject({ status: 'running' });
    expect(rounds.get('alice', b.id)).toBeUndefined();
    expect(rounds.get('alice', c.id)).toMatchObject({ status: 'done' });
    finish(summary);
    expect(await running.outcome).toEqual({ ok: true, summary });
  });

  it('a failed round keeps the described error; its outcome does not reject', async () => {
    const rounds = new SyncRounds({ describe: (e) => ({ error: 'openwebui_unavailable', message: String(e) }) });
    const r = rounds.start('alice', 'bidirectional', Promise.reject(new Error('down')));
    expect(await r.outcome).toMatchObject({ ok: false });
    expect(rounds.get('alice', r.id)).toMatchObject({ status: 'failed', error: { error: 'openwebui_unavailable', message: 'Error: down' } });
  });
});
