// The KB leg made visible (issue 13), through a real hub against the emulator and a REAL Open
// WebUI: a file Open WebUI cannot process is `failed` with Open WebUI's own reason in
// `GET .../status` and in the hub's line of the KB's description (the user's own description
// text stays); a mass delete the guard holds is `held`, never `synced`, and goes through once
// confirmed. docs/SYNC-SPEC.md "Hub and knowledge base", invariant 10.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESCRIPTION_MARK } from '../../server/openwebui/kb-description.ts';
import { KbStatusSchema, type KbStatus } from '../../shared/kb-status.ts';
import { auth, type HubHandle } from '../helpers/hub.ts';
import {
  asUser,
  kbOf,
  realOpenWebUIInstalled,
  realOpenWebUIRequired,
  startEmulatorTarget,
  startHubWithOpenWebUI,
  startRealOpenWebUI,
  waitFor,
  type OpenWebUITarget,
} from '../helpers/openwebui.ts';

const targets = [
  { name: 'emulator', start: () => startEmulatorTarget() },
  { name: 'real Open WebUI', start: () => startRealOpenWebUI() },
] as const;

describe.each(targets)('KB status and description: $name', ({ name, start }) => {
  let target: OpenWebUITarget | undefined;
  let hub: HubHandle | undefined;
  let skipReason = '';

  beforeAll(async () => {
    const real = name !== 'emulator';
    if (real && !realOpenWebUIInstalled()) {
      if (realOpenWebUIRequired()) throw new Error('YOULAB_REAL_OPENWEBUI=required but no Open WebUI venv');
      skipReason = 'no Open WebUI venv here (scripts/openwebui-install.sh makes one)';
      return;
    }
    try {
      target = await start();
    } catch (e) {
      if (!real || realOpenWebUIRequired()) throw e;
      skipReason = `real Open WebUI did not start: ${(e as Error).message.split('\n')[0]}`;
      return;
    }
    // Background rounds only when asked: each step below is one explicit round.
    hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_DEBOUNCE_MS: '600000', RALPH_SYNC_DEBOUNCE_MAX_MS: '600000', RALPH_SYNC_WAIT_MS: '120000' });
  }, 240_000);

  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
  }, 60_000);

  function live(ctx: { skip: (note?: string) => void }): void {
    if (!target) ctx.skip(skipReason);
  }

  /** A fresh Open WebUI user with a hub key, and the hub calls of the test. */
  async function setup() {
    const t = target!;
    const h = hub!;
    const user = await t.createUser('Student');
    const key = await h.createKey(user.id);
    const base = `${h.url}/users/${user.id}/workspace`;
    const etag = async (p: string) => (await fetch(`${base}/files/${p}`, { method: 'HEAD', headers: auth(key) })).headers.get('etag');
    const put = async (p: string, body: string | Uint8Array) => {
      const e = await etag(p);
      const r = await fetch(`${base}/files/${p}`, { method: 'PUT', headers: { ...auth(key), ...(e ? { 'if-match': e } : { 'if-none-match': '*' }) }, body: typeof body === 'string' ? body : new Uint8Array(body) });
      expect(r.status).toBe(200);
    };
    const del = async (p: string) => {
      const r = await fetch(`${base}/files/${p}`, { method: 'DELETE', headers: { ...auth(key), 'if-match': (await etag(p))! } });
      expect(r.status).toBe(204);
    };
    const sync = async (body: Record<string, unknown> = {}) => {
      const r = await fetch(`${base}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
      return (await r.json()) as { knowledge_id: string; uploaded: string[]; failed: { path: string }[]; guard?: string; deleted_in_openwebui: string[]; deleted_in_workspace: string[] };
    };
    const status = async (query = ''): Promise<KbStatus> => {
      const r = await fetch(`${base}/status${query}`, { headers: auth(key) });
      expect(r.status).toBe(200);
      return KbStatusSchema.parse(await r.json());
    };
    return { t, h, user, key, base, put, del, sync, status, web: asUser(t, user.token), admin: asUser(t, t.adminApiKey) };
  }

  it('a file Open WebUI cannot process is failed with its reason in the status API and in the KB description; the user’s text stays', async (ctx) => {
    live(ctx);
    const { put, sync, status, web, admin, base, key } = await setup();
    await put('notes.md', 'Mitochondria make ATP.\n');
    const first = await sync({ direction: 'to_openwebui' });
    expect(first.uploaded).toEqual(['notes.md']);
    const kbId = first.knowledge_id;
    // The line is written after the round's answer (Open WebUI re-embeds the description): wait for it.
    const created = await waitFor(async () => {
      const k = await admin.knowledge(kbId);
      return k.description.includes(`${DESCRIPTION_MARK} · 1 file · `) && k;
    }, 20_000, 'the hub line in the new KB description');
    // The user writes their own description in the web UI; the hub's line is replaced next time, theirs stays.
    await web.updateKnowledge(kbId, created.name, 'Biology notes, term 1\nAsk Ralph before the exam.');

    await put('empty.md', '');
    await put('broken.pdf', new TextEncoder().encode('this is not a pdf at all, only bytes'));
    const s = await sync({ direction: 'to_openwebui' });
    expect(s.failed.map((f) => f.path).sort()).toEqual(['broken.pdf', 'empty.md']);

    const st = await status();
    expect(st.counts).toEqual({ total: 3, synced: 1, pending: 0, processing: 0, failed: 2, ignored: 0, held: 0 });
    expect(st.last_round).toMatchObject({ direction: 'to_openwebui', outcome: 'ok', changed: true });
    expect(st.last_round!.duration_ms).toBeGreaterThanOrEqual(0);
    const empty = st.files.find((f) => f.path === 'empty.md')!;
    expect(empty).toMatchObject({ state: 'failed', reason: 'processing_failed', side: 'to_openwebui', attempts: 1 });
    // Open WebUI's own words, without the transport's route and status prefix.
    expect(empty.message).toMatch(/^The content provided is empty/);
    expect(Date.parse(empty.next_retry_at!)).toBeGreaterThan(Date.now());
    const broken = st.files.find((f) => f.path === 'broken.pdf')!;
    expect(broken).toMatchObject({ state: 'failed', reason: 'processing_failed', attempts: 1 });
    expect(broken.message).not.toMatch(/^api\/v1/);

    const kb = await waitFor(async () => {
      const k = await admin.knowledge(kbId);
      return k.description.includes(' · 2 failed: ') && k;
    }, 20_000, 'the failures in the KB description');
    const lines = kb.description.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Biology notes, term 1', 'Ask Ralph before the exam.']);
    const hubLine = lines.filter((l) => l.startsWith(DESCRIPTION_MARK));
    expect(hubLine).toHaveLength(1);
    expect(hubLine[0]).toContain(' · 1 file · ');
    expect(hubLine[0]).toMatch(/ · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · 2 failed: /);
    expect(hubLine[0]).toContain('empty.md (The content provided is empty');
    expect(hubLine[0]).toContain(`broken.pdf (${broken.message!.replace(/\s+/g, ' ').slice(0, 40)}`);

    // The update route left access alone: the user reaches the KB, another user does not.
    expect(await web.status(`api/v1/knowledge/${kbId}`)).toBe(200);
    const other = await target!.createUser('Other');
    expect(await asUser(target!, other.token).status(`api/v1/knowledge/${kbId}`)).not.toBe(200);

    // Paged and filtered.
    const failedOnly = await status('?state=failed&limit=1');
    expect(failedOnly).toMatchObject({ total: 2, offset: 0, limit: 1, next_offset: 1 });
    expect(failedOnly.files.map((f) => f.path)).toEqual(['broken.pdf']);
    expect((await status('?state=failed&limit=1&offset=1')).files.map((f) => f.path)).toEqual(['empty.md']);
    const bad = await fetch(`${base}/status?state=lost`, { headers: auth(key) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request', message: expect.stringContaining('state') });

    // A round that changes nothing leaves the description alone (the second round starts only
    // once whatever the first one wrote is written).
    await sync({ direction: 'to_openwebui' });
    await sync({ direction: 'to_openwebui' });
    expect((await admin.knowledge(kbId)).description).toBe(kb.description);
  });

  it('a held mass delete in the KB is held, never synced, and goes through once confirmed', async (ctx) => {
    live(ctx);
    const { put, del, sync, status, admin, web, user, h } = await setup();
    const names = Array.from({ length: 12 }, (_, i) => `class/lesson-${String(i + 1).padStart(2, '0')}.md`);
    for (const [i, n] of names.entries()) await put(n, `Lesson ${i + 1}: cells, tissues and organs number ${i}.\n`);
    await put('keep/a.md', 'Kept one.\n');
    await put('keep/b.md', 'Kept two.\n');
    const first = await sync();
    expect(first.uploaded).toHaveLength(14);

    // Twelve of fourteen deleted in the workspace: the guard holds the KB deletes.
    for (const n of names) await del(n);
    const guarded = await sync();
    expect(guarded.guard).toMatch(/would delete 12 of 14 files/);
    expect(guarded.deleted_in_openwebui).toEqual([]);
    const held = await status('?state=held');
    expect(held.counts).toMatchObject({ held: 12, synced: 2 });
    expect(held.guard).toBe(guarded.guard);
    expect(held.last_round).toMatchObject({ outcome: 'guarded' });
    expect(held.files.map((f) => [f.path, f.state, f.action])).toEqual(names.map((n) => [n, 'held', 'delete_in_openwebui']));
    expect(held.files[0]!.message).toBe(guarded.guard);
    expect((await kbOf(target!, user.id))!.paths).toEqual([...names, 'keep/a.md', 'keep/b.md']);
    await waitFor(async () => (await admin.knowledge(first.knowledge_id)).description.includes(' · 12 deletes held: confirm in the YouLab app'), 20_000, 'the held deletes in the KB description');

    const confirmed = await sync({ confirm_deletes: true });
    expect(confirmed.deleted_in_openwebui).toEqual(names);
    expect(confirmed.guard).toBeUndefined();
    const after = await status();
    expect(after.counts).toMatchObject({ held: 0, synced: 2, total: 2 });
    expect(after.guard).toBeNull();
    expect((await kbOf(target!, user.id))!.paths).toEqual(['keep/a.md', 'keep/b.md']);
    await waitFor(async () => !(await admin.knowledge(first.knowledge_id)).description.includes('held'), 20_000, 'no held deletes in the KB description');

    // Removed in the KB by the user: the workspace files are held (action delete_in_workspace), not synced.
    const more = Array.from({ length: 10 }, (_, i) => `more/m${i}.md`);
    for (const [i, n] of more.entries()) await put(n, `More notes ${i}: photosynthesis step ${i * 7}.\n`);
    await sync();
    const files = await web.knowledgeFiles(first.knowledge_id);
    for (const f of files.filter((x) => x.meta?.data?.path?.startsWith('more/'))) await web.removeFromKnowledge(first.knowledge_id, f.id);
    const g2 = await sync();
    expect(g2.guard).toMatch(/would delete 10 of 12 files on the local folder/);
    const st2 = await status('?state=held');
    expect(st2.files.map((f) => [f.path, f.state, f.action])).toEqual(more.map((n) => [n, 'held', 'delete_in_workspace']));
    expect((await status('?state=synced')).files.map((f) => f.path)).toEqual(['keep/a.md', 'keep/b.md']);
    const c2 = await sync({ confirm_deletes: true });
    expect(c2.deleted_in_workspace).toEqual(more);
    for (const n of more) await expect(access(join(h.dataDir, user.id, 'workspace', n))).rejects.toThrow();
    expect((await status()).counts).toMatchObject({ held: 0, total: 2 });
  });
});
