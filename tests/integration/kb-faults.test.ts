// KB sync under injected faults (emulator): 5xx and dropped connections are retried or resumed,
// slow processing is picked up at the next round, failures are recorded and retried with
// backoff, never in a loop, and nothing the hub did not create is ever deleted.
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { OpenWebUIError } from '../../server/openwebui/http.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { loadState } from '../../server/openwebui/state.ts';
import { StoreError } from '../../server/store-error.ts';
import { startEmulator, type OpenWebUIEmulator } from '../fakes/openwebui-emulator/index.ts';
import { asUser, deleteFile, emulatorTarget, folderStore, putFile, tempRoot, type OpenWebUITarget } from '../helpers/openwebui.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function world(emu: OpenWebUIEmulator, opts: { processTimeoutMs?: number; retryBaseMs?: number; now?: () => Date } = {}) {
  const root = await tempRoot();
  roots.push(root);
  const user = emu.addUser('Student', `s-${Math.random().toString(36).slice(2)}@example.test`);
  const store = folderStore(root);
  const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey, retries: 3, retryBackoffLimitMs: 50 });
  const sync = new KbSync({
    client,
    store,
    extensions: DEFAULT_EXTENSIONS,
    processTimeoutMs: opts.processTimeoutMs ?? 5_000,
    retryBaseMs: opts.retryBaseMs ?? 60_000,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const kbFiles = (kbId: string) => [...(emu.knowledge.get(kbId)?.files ?? [])].map((id) => emu.files.get(id)!);
  return { uid: user.id, user, store, sync, kbFiles };
}

describe('KB sync against the emulator with faults', () => {
  let emu: OpenWebUIEmulator;
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(async () => {
    await emu.stop();
  });

  it('5xx answers are retried with backoff and the round completes', async () => {
    const { uid, store, sync, kbFiles } = await world(emu);
    await putFile(store, uid, 'a.md', 'alpha\n');
    emu.faults.http.push({ method: 'GET', path: /^\/api\/v1\/knowledge\/?$/, count: 2, kind: { status: 503 } });
    emu.faults.http.push({ method: 'GET', path: /\/process\/status$/, count: 1, kind: { status: 502 } });
    const s = await sync.sync(uid);
    expect(s.uploaded).toEqual(['a.md']);
    expect(kbFiles(s.knowledge_id).map((f) => f.meta.data.path)).toEqual(['a.md']);
    const listing = emu.log.filter((l) => l.method === 'GET' && l.path === '/api/v1/knowledge/').map((l) => l.status);
    expect(listing.slice(0, 3)).toEqual([503, 503, 200]);
    expect(emu.uploads()).toHaveLength(1);
  });

  it('a dropped connection on a listing is retried; on an upload the round stops and the next one finishes, without duplicates', async () => {
    const { uid, store, sync, kbFiles } = await world(emu);
    await putFile(store, uid, 'a.md', 'alpha\n');
    emu.faults.http.push({ method: 'GET', path: /\/files$/, count: 1, kind: 'drop' });
    const s1 = await sync.sync(uid);
    expect(s1.uploaded).toEqual(['a.md']);

    await putFile(store, uid, 'b.md', 'bravo\n');
    emu.faults.http.push({ method: 'POST', path: /^\/api\/v1\/files\/?$/, count: 1, kind: 'drop' });
    await expect(sync.sync(uid)).rejects.toBeInstanceOf(OpenWebUIError);
    expect((await sync.status(uid)).last_error).toMatch(/files/);
    const s3 = await sync.sync(uid);
    expect(s3.uploaded).toEqual(['b.md']);
    expect(kbFiles(s1.knowledge_id).map((f) => f.meta.data.path).sort()).toEqual(['a.md', 'b.md']);
    expect([...emu.files.values()]).toHaveLength(2);
  });

  it('a 5xx on add leaves the upload pending; the next round adds the same file instead of uploading again', async () => {
    const { uid, store, sync, kbFiles } = await world(emu);
    await putFile(store, uid, 'a.md', 'alpha\n');
    // 0.12.4 adds through files/batch/add, older releases through file/add: either one fails.
    emu.faults.http.push({ method: 'POST', path: /\/(file\/add|files\/batch\/add)$/, count: 1, kind: { status: 500 } });
    await expect(sync.sync(uid)).rejects.toThrow(/500/);
    const s2 = await sync.sync(uid);
    expect(s2.uploaded).toEqual(['a.md']);
    expect(emu.uploads()).toHaveLength(1);
    expect(kbFiles(s2.knowledge_id)).toHaveLength(1);
  });

  it('slow processing: pending in the first round, completed in the next, one upload', async () => {
    const { uid, store, sync, kbFiles } = await world(emu, { processTimeoutMs: 200 });
    emu.faults.processingDelayMs = 1_000;
    await putFile(store, uid, 'slow.md', 'slow\n');
    const s1 = await sync.sync(uid);
    expect(s1.pending).toEqual(['slow.md']);
    expect(kbFiles(s1.knowledge_id)).toHaveLength(0);
    expect((await sync.status(uid)).files[0]).toMatchObject({ path: 'slow.md', state: 'processing', reason: 'processing' });
    await new Promise((r) => setTimeout(r, 1_200));
    const s2 = await sync.sync(uid);
    expect(s2.uploaded).toEqual(['slow.md']);
    expect(emu.uploads()).toHaveLength(1);
    expect((await sync.status(uid)).files[0]).toMatchObject({ path: 'slow.md', state: 'synced' });
  });

  it('a changed file while its upload is pending: the stale upload is deleted, the new content goes up', async () => {
    const { uid, store, sync, kbFiles } = await world(emu, { processTimeoutMs: 100 });
    emu.faults.processingDelayMs = 800;
    await putFile(store, uid, 'doc.md', 'first\n');
    await sync.sync(uid);
    await putFile(store, uid, 'doc.md', 'second\n');
    emu.faults.processingDelayMs = 10;
    const s2 = await sync.sync(uid);
    expect(s2.uploaded).toEqual(['doc.md']);
    expect(kbFiles(s2.knowledge_id).map((f) => f.bytes.toString())).toEqual(['second\n']);
    expect([...emu.files.values()]).toHaveLength(1);
  });

  it('failed processing is recorded and retried only after its backoff, which grows', async () => {
    // The rounds' clock is the test's: the backoff is decided against it, not against how long a
    // round takes on a busy machine.
    let clock = Date.parse('2026-12-01T10:00:00.000Z');
    const { uid, store, sync } = await world(emu, { retryBaseMs: 400, now: () => new Date(clock) });
    emu.faults.failProcessing = (name) => (name === 'bad.md' ? 'Loader crashed' : undefined);
    await putFile(store, uid, 'bad.md', 'cannot be read\n');
    const s1 = await sync.sync(uid);
    expect(s1.failed).toEqual([expect.objectContaining({ path: 'bad.md', reason: 'processing_failed', message: 'Loader crashed' })]);
    clock += 399; // within the first backoff (400 ms): not offered again
    for (let i = 0; i < 3; i++) await sync.sync(uid);
    expect(emu.uploads()).toHaveLength(1);
    clock += 1; // the backoff is over: tried once more, fails again, and now waits 800 ms
    await sync.sync(uid);
    clock += 799;
    await sync.sync(uid);
    expect(emu.uploads()).toHaveLength(2);
    const st = await loadState(store.stateDir(uid), uid);
    expect(st.failures['bad.md']).toMatchObject({ attempts: 2, reason: 'processing_failed' });
    const f = st.failures['bad.md']!;
    expect(Date.parse(f.next_retry_at) - Date.parse(f.failed_at)).toBe(800);
    // Failed uploads leave nothing behind in Open WebUI.
    expect([...emu.files.values()]).toHaveLength(0);
  });

  it('over the size limit and disallowed types are recorded with their reason', async () => {
    await emu.stop();
    emu = await startEmulator({ maxFileSizeMb: 1, allowedExtensions: ['md'] });
    const { uid, store, sync } = await world(emu);
    await putFile(store, uid, 'big.md', Buffer.alloc(1024 * 1024 + 10, 'a'));
    await putFile(store, uid, 'data.csv', 'a,b\n1,2\n');
    const s = await sync.sync(uid);
    const reasons = Object.fromEntries(s.failed.map((f) => [f.path, f.reason]));
    expect(reasons).toEqual({ 'big.md': 'too_large', 'data.csv': 'unsupported_type' });
    await sync.sync(uid);
    expect(emu.uploads()).toHaveLength(2);
  });

  it('nothing is deleted that the hub did not create, even with lost state', async () => {
    const { uid, user, store, sync, kbFiles } = await world(emu);
    // Someone else's KB and files, and a file of the admin outside any KB.
    const other = emu.addUser('Other', 'other@example.test');
    const t: OpenWebUITarget = emulatorTarget(emu);
    const otherWeb = asUser(t, emu.tokenFor(other));
    const otherFile = await otherWeb.upload('private.md', 'someone else\n');
    await putFile(store, uid, 'mine.md', 'mine\n');
    const s1 = await sync.sync(uid);
    const web = asUser(t, emu.tokenFor(user));
    const webFile = await web.upload('browser.md', 'from the browser\n');
    await web.waitProcessed(webFile);
    await web.addToKnowledge(s1.knowledge_id, webFile);

    await deleteFile(store, uid, 'mine.md');
    await rm(store.stateDir(uid), { recursive: true, force: true }); // lost state: merge, never delete
    const s2 = await sync.sync(uid, 'to_openwebui');
    expect(s2.deleted_in_openwebui).toEqual([]);
    expect(kbFiles(s1.knowledge_id).map((f) => f.filename).sort()).toEqual(['browser.md', 'mine.md']);
    expect(emu.files.has(otherFile)).toBe(true);
    expect(emu.files.has(webFile)).toBe(true);
    // Bidirectional after the loss: both come back into the workspace, nothing is removed anywhere.
    const s3 = await sync.sync(uid);
    expect(s3.downloaded.sort()).toEqual(['browser.md', 'mine.md']);
    expect(s3.deleted_in_openwebui).toEqual([]);
    expect(emu.files.has(otherFile)).toBe(true);
  });

  it('a KB that another user named like this user\'s is not adopted', async () => {
    const { uid, store, sync } = await world(emu);
    const squatter = emu.addUser('Squatter', 'squat@example.test');
    const t = emulatorTarget(emu);
    const r = await fetch(`${t.url}/api/v1/knowledge/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.tokenFor(squatter)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `workspace-${uid}`, description: '' }),
    });
    const squatted = ((await r.json()) as { id: string }).id;
    await putFile(store, uid, 'secret.md', 'not for the squatter\n');
    const s = await sync.sync(uid);
    expect(s.knowledge_created).toBe(true);
    expect(s.knowledge_id).not.toBe(squatted);
    expect(emu.knowledge.get(squatted)!.files).toEqual([]);
    expect(emu.knowledge.get(s.knowledge_id)!.user_id).toBe(emu.admin.id);
  });

  it('a second conflict of one path within the same second gets its own copy name (found by the soak run of the KB model)', async () => {
    const { uid, user, store } = await world(emu);
    const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey, retries: 2, retryBackoffLimitMs: 20 });
    // One clock second for every round: conflict copy names are stamped in whole seconds.
    const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, now: () => new Date('2026-03-01T10:00:00Z') });
    const s0 = await sync.sync(uid);
    const web = asUser(emulatorTarget(emu), emu.tokenFor(user));
    for (const text of ['first browser version\n', 'second browser version\n']) {
      const fid = await web.upload('w1.md', text);
      await web.waitProcessed(fid);
      await web.addToKnowledge(s0.knowledge_id, fid);
      if (text.startsWith('first')) await putFile(store, uid, 'w1.md', 'the workspace version\n');
    }
    // The first conflict's upload of the workspace version is cut: the second browser file now
    // stands for w1.md, a second conflict in the same second.
    emu.faults.http.push({ method: 'POST', path: /^\/api\/v1\/files\/?$/, count: 1, kind: 'drop' });
    await expect(sync.sync(uid)).rejects.toBeInstanceOf(OpenWebUIError);
    const s2 = await sync.sync(uid);
    expect(s2.conflicts).toEqual([{ path: 'w1.md', copy: 'w1 (conflict openwebui 2026-03-01 100001).md' }]);
    expect(s2.uploaded).toEqual(['w1.md']);
    const files = (await store.list(uid)).files.map((f) => f.path).sort();
    expect(files).toEqual(['w1 (conflict openwebui 2026-03-01 100000).md', 'w1 (conflict openwebui 2026-03-01 100001).md', 'w1.md']);
  });

  it('a web-UI file the workspace refuses is recorded and not fetched again every round', async () => {
    const { uid, user, store, sync } = await world(emu, { retryBaseMs: 60_000 });
    const refusing: typeof store = {
      ...store,
      write: (u, path, body, opts) =>
        path === 'huge.md' ? Promise.reject(new StoreError('too_large', 'over the workspace file limit')) : store.write(u, path, body, opts),
    };
    const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey });
    const picky = new KbSync({ client, store: refusing, extensions: DEFAULT_EXTENSIONS, retryBaseMs: 60_000 });
    await putFile(store, uid, 'ok.md', 'fine\n');
    const s1 = await picky.sync(uid);
    const web = asUser(emulatorTarget(emu), emu.tokenFor(user));
    const fid = await web.upload('huge.md', 'pretend this is huge\n');
    await web.waitProcessed(fid);
    await web.addToKnowledge(s1.knowledge_id, fid);
    const s2 = await picky.sync(uid);
    expect(s2.failed).toEqual([expect.objectContaining({ path: 'huge.md', reason: 'workspace_refused' })]);
    const fetches = () => emu.log.filter((l) => l.path === `/api/v1/files/${fid}/content`).length;
    expect(fetches()).toBe(1);
    await picky.sync(uid);
    await picky.sync(uid);
    expect(fetches()).toBe(1);
    expect((await picky.status(uid)).files).toContainEqual(expect.objectContaining({ path: 'huge.md', state: 'failed', reason: 'workspace_refused' }));
    void sync;
  });

  it('workspace folders become KB folders; a folder the user deleted in the web UI is made again', async () => {
    const { uid, user, store, sync, kbFiles } = await world(emu);
    await putFile(store, uid, 'unit/one/a.md', 'a\n');
    await putFile(store, uid, 'unit/one/b.md', 'b\n');
    const s1 = await sync.sync(uid);
    const kb = emu.knowledge.get(s1.knowledge_id)!;
    expect([...kb.dirs.values()].map((d) => d.name).sort()).toEqual(['one', 'unit']);
    const web = asUser(emulatorTarget(emu), emu.tokenFor(user));
    const unit = [...kb.dirs.values()].find((d) => d.name === 'unit')!;
    await web.deleteDirectory(s1.knowledge_id, unit.id); // files move to the root, folders are gone
    expect(kb.dirs.size).toBe(0);
    await putFile(store, uid, 'unit/one/a.md', 'a, edited\n');
    const s2 = await sync.sync(uid);
    expect(s2.uploaded).toEqual(['unit/one/a.md']);
    expect(s2.failed).toEqual([]);
    const a = kbFiles(s1.knowledge_id).find((f) => f.meta.data.path === 'unit/one/a.md')!;
    const dirOfA = kb.fileDir.get(a.id)!;
    expect(kb.dirs.get(dirOfA)?.name).toBe('one');
  });

  it('one user\'s rounds never overlap: concurrent triggers run one after the other', async () => {
    const { uid, store, sync, kbFiles } = await world(emu);
    emu.faults.processingDelayMs = 300;
    for (let i = 0; i < 3; i++) await putFile(store, uid, `f${i}.md`, `file ${i}\n`);
    const runs = [sync.sync(uid), sync.sync(uid), sync.sync(uid, 'to_openwebui')];
    expect(sync.isRunning(uid)).toBe(true);
    const [a, b, c] = await Promise.all(runs);
    expect(a!.uploaded.sort()).toEqual(['f0.md', 'f1.md', 'f2.md']);
    expect([...b!.uploaded, ...c!.uploaded]).toEqual([]);
    expect(emu.uploads()).toHaveLength(3);
    expect(kbFiles(a!.knowledge_id)).toHaveLength(3);
    expect(sync.isRunning(uid)).toBe(false);
  });

  it('the description line never takes back what the user typed while the round ran', async () => {
    const { uid, store, sync } = await world(emu);
    await putFile(store, uid, 'a.md', 'alpha\n');
    const s1 = await sync.sync(uid);
    await sync.idle();
    const kb = emu.knowledge.get(s1.knowledge_id)!;
    expect(kb.description.split('\n')[1]).toMatch(/^↻ Synced with your Ralph workspace · 1 file · /);
    // The user edits the description in the web UI while the next round uploads.
    await putFile(store, uid, 'b.md', 'bravo\n');
    emu.onRequest = (method, path) => {
      if (method === 'POST' && path === '/api/v1/files/') kb.description = 'My own words';
    };
    await sync.sync(uid);
    await sync.idle();
    emu.onRequest = undefined;
    expect(kb.description).toMatch(/^My own words\n↻ Synced with your Ralph workspace · 2 files · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  });

  it('the mass-delete guard stops a round that would empty the KB', async () => {
    const { uid, store, sync, kbFiles } = await world(emu);
    for (let i = 0; i < 12; i++) await putFile(store, uid, `n${i}.md`, `note ${i}\n`);
    const s1 = await sync.sync(uid);
    expect(s1.uploaded).toHaveLength(12);
    for (let i = 0; i < 12; i++) await deleteFile(store, uid, `n${i}.md`);
    const s2 = await sync.sync(uid);
    expect(s2.guard).toMatch(/delete|empty/);
    expect(kbFiles(s1.knowledge_id)).toHaveLength(12);
  });

  it('parses the pre-0.6.42 shapes (emulated 0.6.30): plain lists, inlined files, no raw-bytes hash', async () => {
    await emu.stop();
    emu = await startEmulator({ flavour: 'legacy' });
    const { uid, user, store, sync, kbFiles } = await world(emu);
    await putFile(store, uid, 'a.md', 'alpha\n');
    await putFile(store, uid, 'docs/a.md', 'docs alpha\n');
    const s1 = await sync.sync(uid);
    expect(s1.openwebui_version).toBe('0.6.30');
    expect(s1.uploaded.sort()).toEqual(['a.md', 'docs/a.md']);
    // access_control on old releases: the user, not everyone.
    const kb = emu.knowledge.get(s1.knowledge_id)!;
    expect(kb.access_control).toEqual({ read: { user_ids: [uid], group_ids: [] }, write: { user_ids: [uid], group_ids: [] } });
    await putFile(store, uid, 'a.md', 'alpha 2\n');
    const t = emulatorTarget(emu);
    const web = asUser(t, emu.tokenFor(user));
    const id = await web.upload('web.md', 'from the browser\n');
    await new Promise((r) => setTimeout(r, 100));
    await web.addToKnowledge(s1.knowledge_id, id);
    const s2 = await sync.sync(uid);
    expect(s2.uploaded).toEqual(['a.md']);
    expect(s2.downloaded).toEqual(['web.md']);
    await sync.idle(); // a description line would be written after the round's answer
    // Before 0.6.42 the update route stores the whole form, whose `data` holds the KB's file list (an
    // update empties the KB, as real 0.6.30 does): the hub writes no description line there, so the
    // description, the access and the files stay as they were.
    expect(kb.description).toMatch(/^YouLab workspace of [^\n]*$/);
    expect(kb.access_control).toEqual({ read: { user_ids: [uid], group_ids: [] }, write: { user_ids: [uid], group_ids: [] } });
    expect(kbFiles(s1.knowledge_id)).toHaveLength(3);
    const s3 = await sync.sync(uid);
    expect([...s3.uploaded, ...s3.downloaded, ...s3.conflicts]).toEqual([]);
    expect(kbFiles(s1.knowledge_id)).toHaveLength(3);
  });
});
