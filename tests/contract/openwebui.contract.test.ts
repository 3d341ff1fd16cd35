// ONE contract suite, run against the emulator in each flavour and REAL Open WebUI releases: every
// knowledge-base scenario of docs/SYNC-SPEC.md ("Hub and knowledge base" and the KB scenarios of
// "Scenarios every build must pass"), driven through the hub's real KB sync classes. The real
// targets are the venvs of scripts/openwebui-install.sh: by default the latest and the oldest
// supported release; `npm run contract:matrix` runs every release of the matrix, one at a time
// (YOULAB_OPENWEBUI_VENVS). With YOULAB_REAL_OPENWEBUI=required (CI) a real Open WebUI that is
// missing or cannot start fails the suite, otherwise that part skips and says why.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashBytes } from '../../shared/node/hash.ts';
import { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { QUICK_UPLOADS_FROM, versionAtLeast } from '../../server/openwebui/http.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { SyncStateSchema } from '../../server/openwebui/state-schema.ts';
import { STATE_FILE } from '../../server/openwebui/state.ts';
import { auth } from '../helpers/hub.ts';
import {
  asUser,
  kbOf,
  startHubWithOpenWebUI,
  waitFor,
  deleteFile,
  folderStore,
  putFile,
  emulatorTarget,
  realOpenWebUIInstalled,
  realOpenWebUIRequired,
  realOpenWebUIVenvs,
  startRealOpenWebUI,
  tempRoot,
  type OpenWebUITarget,
} from '../helpers/openwebui.ts';

import { startEmulator } from '../fakes/openwebui-emulator/index.ts';
import { fixtureFile, probeShapes, recordingDrift, type Recording } from '../fakes/openwebui-emulator/shapes.ts';

/** The first release checked to refuse a retrieval query on a KB the caller may not read (0.6.30 and 0.8.12 answer it). */
const RETRIEVAL_ACCESS_FROM = '0.9.6';

const targets: { name: string; venv?: string; start: () => Promise<OpenWebUITarget> }[] = [
  { name: 'emulator', start: async () => emulatorTarget(await startEmulator()) },
  { name: 'emulator (legacy flavour, 0.6.30)', start: async () => emulatorTarget(await startEmulator({ flavour: 'legacy' })) },
  ...realOpenWebUIVenvs().map((venv) => ({
    name: `real Open WebUI (${basename(venv)})`,
    venv,
    start: () => startRealOpenWebUI(180_000, venv),
  })),
];

describe.each(targets)('Open WebUI KB contract: $name', ({ name, venv, start }) => {
  let target: OpenWebUITarget | undefined;
  let skipReason = '';
  const roots: string[] = [];

  beforeAll(async () => {
    const real = venv !== undefined;
    if (real && !realOpenWebUIInstalled(venv)) {
      if (realOpenWebUIRequired()) throw new Error(`YOULAB_REAL_OPENWEBUI=required but no Open WebUI venv at ${venv} (run scripts/openwebui-install.sh)`);
      skipReason = `no Open WebUI venv at ${venv} (scripts/openwebui-install.sh makes one)`;
      console.log(`[contract] skipping ${name}: ${skipReason}`);
      return;
    }
    try {
      target = await start();
    } catch (e) {
      if (!real || realOpenWebUIRequired()) throw e;
      skipReason = `real Open WebUI did not start: ${(e as Error).message.split('\n')[0]}`;
      console.log(`[contract] skipping ${name}: ${skipReason}`);
      return;
    }
    console.log(
      `[contract] ${name}: Open WebUI version ${target.version} at ${target.url}` +
        (target.startupMs !== undefined ? ` (started in ${(target.startupMs / 1000).toFixed(1)} s)` : ''),
    );
  }, 240_000);

  afterAll(async () => {
    await target?.stop();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  }, 60_000);

  /** A fresh Open WebUI user, a fresh workspace, and the hub's KB sync for them. */
  async function setup(opts: { processTimeoutMs?: number; maxFileBytes?: number } = {}) {
    const t = target!;
    const user = await t.createUser('Student');
    const root = await tempRoot();
    roots.push(root);
    const store = folderStore(root);
    const client = new OpenWebUIClient({ url: t.url, apiKey: t.adminApiKey, retries: 2 });
    const sync = new KbSync({
      client,
      store,
      extensions: DEFAULT_EXTENSIONS,
      processTimeoutMs: opts.processTimeoutMs ?? 30_000,
      retryBaseMs: 60_000,
      ...(opts.maxFileBytes !== undefined ? { maxFileBytes: opts.maxFileBytes } : {}),
    });
    const web = asUser(t, user.token);
    const admin = asUser(t, t.adminApiKey);
    const kbPaths = async (kbId: string): Promise<string[]> =>
      (await admin.knowledgeFiles(kbId)).map((f) => f.meta?.data?.path ?? f.filename).sort();
    const readState = async () =>
      SyncStateSchema.parse(JSON.parse(await readFile(join(store.stateDir(user.id), STATE_FILE), 'utf8')));
    return { t, user, uid: user.id, store, client, sync, web, admin, kbPaths, readState };
  }

  function live(ctx: { skip: (note?: string) => void }): void {
    if (!target) ctx.skip(skipReason);
  }

  it('answers in the shapes recorded from this release (the fixtures the emulator is checked against)', async (ctx) => {
    live(ctx);
    const t = target!;
    if (t.kind !== 'real') ctx.skip('the emulator is compared with the recordings by tests/unit/openwebui-emulator-drift.test.ts');
    const live_ = await probeShapes(t.url, t.adminApiKey);
    const file = fixtureFile(t.version);
    if (process.env.YOULAB_RECORD_FIXTURES === '1') {
      await writeFile(file, `${JSON.stringify(live_, null, 2)}\n`);
      console.log(`[contract] recorded ${file}`);
    }
    const recorded = await readFile(file, 'utf8').then((j) => JSON.parse(j) as Recording, () => undefined);
    if (!recorded) ctx.skip(`no recording for ${t.version} (YOULAB_RECORD_FIXTURES=1 makes one)`);
    expect(recordingDrift(recorded!, live_)).toEqual([]);
  });

  it('detects the version and creates the per-user KB, private to that user, found again by name', async (ctx) => {
    live(ctx);
    const { t, uid, user, store, client, sync, web, readState } = await setup();
    expect(await client.version()).toBe(t.version);
    // 0.12 refuses session endpoints to API keys; the hub must not depend on them.
    if (versionAtLeast(t.version, '0.12.0')) await expect(client.me()).rejects.toThrow(/403/);
    await putFile(store, uid, 'notes/todo.md', '# Todo\n- water the plants\n');
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.knowledge_created).toBe(true);
    expect(s.knowledge_name).toBe(`workspace-${uid}`);
    expect(s.uploaded).toEqual(['notes/todo.md']);
    // Owned by the admin account behind the service key (find-by-name only adopts such KBs).
    const owner = (await client.getKnowledge(s.knowledge_id))?.user_id;
    expect((await client.getUser(owner!))?.role).toBe('admin');

    // The user reaches it; another user does not.
    expect(await web.sees(`api/v1/knowledge/${s.knowledge_id}`)).toBe(true);
    const other = await t.createUser('Other');
    expect(await asUser(t, other.token).sees(`api/v1/knowledge/${s.knowledge_id}`)).toBe(false);
    // Up to 0.8.12 the retrieval route does not check KB access (any user who knows a KB's id can
    // query it; docs/OPENWEBUI-API.md "Access"); 0.9.6 and 0.12.4 refuse.
    if (versionAtLeast(t.version, RETRIEVAL_ACCESS_FROM)) {
      expect(await asUser(t, other.token).queryStatus(s.knowledge_id, 'plants')).not.toBe(200);
    }
    expect(await web.queryStatus(s.knowledge_id, 'plants')).toBe(200);

    // State in the design's shape, outside workspace/.
    const st = await readState();
    expect(st).toMatchObject({ version: 1, user_id: user.id, knowledge_id: s.knowledge_id });
    expect(st.files['notes/todo.md']).toMatchObject({
      path: 'notes/todo.md',
      hash: hashBytes('# Todo\n- water the plants\n'),
      source: 'ralph',
    });
    expect(store.stateDir(uid).startsWith(store.workspaceDir(uid))).toBe(false);

    // State lost: the KB is found again by name, nothing re-uploaded, nothing deleted.
    await rm(join(store.stateDir(uid), STATE_FILE));
    const again = await new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS }).sync(uid, 'bidirectional');
    expect(again.knowledge_id).toBe(s.knowledge_id);
    expect(again.knowledge_created).toBe(false);
    expect(again.uploaded).toEqual([]);
    expect(again.deleted_in_workspace).toEqual([]);
    expect((await readState()).files['notes/todo.md']?.openwebui_file_id).toBe(st.files['notes/todo.md']!.openwebui_file_id);
  });

  it('a hub user mapped to an Open WebUI user by email gets the KB granted to that user', async (ctx) => {
    live(ctx);
    const t = target!;
    const student = await t.createUser('Mapped');
    const root = await tempRoot();
    roots.push(root);
    const store = folderStore(root);
    const client = new OpenWebUIClient({ url: t.url, apiKey: t.adminApiKey });
    const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, userMap: { 'hub-alice': student.email } });
    await putFile(store, 'hub-alice', 'hello.md', 'hello from a mapped user\n');
    const s = await sync.sync('hub-alice', 'to_openwebui');
    expect(s.knowledge_name).toBe('workspace-hub-alice');
    expect(await asUser(t, student.token).sees(`api/v1/knowledge/${s.knowledge_id}`)).toBe(true);
    const other = await t.createUser('Unmapped');
    expect(await asUser(t, other.token).sees(`api/v1/knowledge/${s.knowledge_id}`)).toBe(false);
  });

  it('same basename in two folders: two KB files, full paths kept', async (ctx) => {
    live(ctx);
    const { uid, store, client, sync, admin, kbPaths } = await setup();
    await putFile(store, uid, 'README.md', 'top readme\n');
    await putFile(store, uid, 'docs/README.md', 'docs readme\n');
    await putFile(store, uid, 'src/lib/README.md', 'lib readme\n');
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded.sort()).toEqual(['README.md', 'docs/README.md', 'src/lib/README.md']);
    expect(await kbPaths(s.knowledge_id)).toEqual(['README.md', 'docs/README.md', 'src/lib/README.md']);
    // Open WebUI keeps only basenames: every file is called README.md there...
    const files = await admin.knowledgeFiles(s.knowledge_id);
    expect(files.map((f) => f.filename)).toEqual(['README.md', 'README.md', 'README.md']);
    // ...and from 0.9.6 on the hub mirrors the folders, so the web UI shows the workspace's tree.
    // (0.9.6 lists files without their folder: the client reads each folder's listing.)
    if (versionAtLeast(target!.version, '0.9.6')) {
      const placed = await client.listKnowledgeFiles(s.knowledge_id);
      expect(placed.map((f) => [f.meta?.data?.path, f.directory_path ?? '']).sort()).toEqual([
        ['README.md', ''],
        ['docs/README.md', 'docs'],
        ['src/lib/README.md', 'src/lib'],
      ]);
    }
  });

  it('a first round of many files: processed inside the upload, added in batches, each new KB folder made once', async (ctx) => {
    live(ctx);
    const { t, uid, store, kbPaths } = await setup();
    const client = new OpenWebUIClient({ url: t.url, apiKey: t.adminApiKey, retries: 2 });
    const calls = { status: 0, batch: 0, single: 0 };
    const orig = { status: client.processStatus.bind(client), batch: client.addFilesToKnowledge.bind(client), single: client.addFileToKnowledge.bind(client) };
    client.processStatus = (...a) => (calls.status++, orig.status(...a));
    client.addFilesToKnowledge = (...a) => (calls.batch++, orig.batch(...a));
    client.addFileToKnowledge = (...a) => (calls.single++, orig.single(...a));
    const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, concurrency: 4 });
    const paths: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = `unit ${i % 4}/week ${Math.floor(i / 4) % 2}/note-${i}.md`;
      paths.push(p);
      await putFile(store, uid, p, `# Note ${i}\n\nThe ${i}th note of unit ${i % 4}, about topic ${i * 7}.\n`);
    }
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toEqual([...paths].sort());
    expect(s.failed).toEqual([]);
    expect(await kbPaths(s.knowledge_id)).toEqual([...paths].sort());
    if (versionAtLeast(t.version, QUICK_UPLOADS_FROM)) {
      // The answer came once processing had ended: one status read per file, no polling.
      expect(calls.status).toBe(40);
      expect(calls.batch).toBeGreaterThanOrEqual(1);
      expect(calls.batch).toBeLessThanOrEqual(2);
      expect(calls.single).toBe(0);
    }
    // Four uploads at a time into the same new folders, yet each folder exists once, and every file
    // sits in its own (KB folders: 0.9.6+).
    if (!versionAtLeast(t.version, '0.9.6')) return;
    const files = await client.listKnowledgeFiles(s.knowledge_id);
    expect(files.map((f) => `${f.directory_path}/${f.filename}`).sort()).toEqual([...paths].sort());
    const web = asUser(t, t.adminApiKey);
    const units = await web.directories(s.knowledge_id, null);
    expect(units.map((d) => d.name).sort()).toEqual(['unit 0', 'unit 1', 'unit 2', 'unit 3']);
    for (const u of units) expect((await web.directories(s.knowledge_id, u.id)).map((d) => d.name).sort()).toEqual(['week 0', 'week 1']);
  });

  it('edit and delete propagate; the old file id is deleted only after the new one is in; a quiet round changes nothing', async (ctx) => {
    live(ctx);
    const { uid, store, sync, admin, kbPaths, readState } = await setup();
    await putFile(store, uid, 'a.md', 'alpha one\n');
    await putFile(store, uid, 'b.md', 'bravo\n');
    const s1 = await sync.sync(uid);
    const before = await readState();
    const oldA = before.files['a.md']!.openwebui_file_id;
    const oldB = before.files['b.md']!.openwebui_file_id;

    await putFile(store, uid, 'a.md', 'alpha two\n');
    await deleteFile(store, uid, 'b.md');
    const s2 = await sync.sync(uid);
    expect(s2.uploaded).toEqual(['a.md']);
    expect(s2.deleted_in_openwebui).toEqual(['b.md']);
    expect(await kbPaths(s1.knowledge_id)).toEqual(['a.md']);
    const after = await readState();
    expect(after.files['a.md']!.openwebui_file_id).not.toBe(oldA);
    expect(after.files['a.md']!.hash).toBe(hashBytes('alpha two\n'));
    expect(after.files['b.md']).toBeUndefined();
    const all = await admin.allFileIds();
    expect(all).not.toContain(oldA);
    expect(all).not.toContain(oldB);
    expect(all).toContain(after.files['a.md']!.openwebui_file_id);

    // Idempotence: nothing to do -> nothing transferred, state file untouched.
    const mtime = (await stat(join(store.stateDir(uid), STATE_FILE))).mtimeMs;
    const s3 = await sync.sync(uid);
    expect([...s3.uploaded, ...s3.downloaded, ...s3.deleted_in_openwebui, ...s3.deleted_in_workspace]).toEqual([]);
    expect((await stat(join(store.stateDir(uid), STATE_FILE))).mtimeMs).toBe(mtime);
    expect((await sync.status(uid)).last_sync).toBe(s3.finished_at);
  });

  it('KB: pending processing at the next round', async (ctx) => {
    live(ctx);
    const { t, uid, store, client, kbPaths, readState } = await setup();
    const impatient = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, processTimeoutMs: 300 });
    await putFile(store, uid, 'slow.md', 'processing of this file takes a while\n');
    t.setProcessingDelay(3_000);
    let s1;
    try {
      s1 = await impatient.sync(uid, 'to_openwebui');
    } finally {
      t.setProcessingDelay(t.kind === 'emulator' ? 10 : 0);
    }
    expect(s1.pending).toEqual(['slow.md']);
    expect(await kbPaths(s1.knowledge_id)).toEqual([]);
    const pendingId = (await readState()).pending['slow.md']?.openwebui_file_id;
    expect(pendingId).toBeDefined();
    const status = await impatient.status(uid);
    expect(status.files).toEqual([expect.objectContaining({ path: 'slow.md', state: 'processing' })]);

    // Next round: the same upload is picked up (no second upload) and added.
    await new Promise((r) => setTimeout(r, 3_500));
    const patient = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, processTimeoutMs: 30_000 });
    const s2 = await patient.sync(uid, 'to_openwebui');
    expect(s2.uploaded).toEqual(['slow.md']);
    expect((await readState()).files['slow.md']?.openwebui_file_id).toBe(pendingId);
    expect(await kbPaths(s1.knowledge_id)).toEqual(['slow.md']);
  });

  it('KB: duplicate-content error is recorded, the KB keeps one copy, and it is not re-uploaded in a loop', async (ctx) => {
    live(ctx);
    const { uid, store, sync, admin, kbPaths, readState } = await setup();
    await putFile(store, uid, 'one.md', 'the very same words\n');
    await putFile(store, uid, 'two.md', 'the very same words\n');
    const filesBefore = (await admin.allFileIds()).length;
    const s1 = await sync.sync(uid, 'to_openwebui');
    expect(s1.uploaded).toEqual(['one.md']);
    expect(s1.failed).toEqual([expect.objectContaining({ path: 'two.md', reason: 'duplicate_content' })]);
    expect(await kbPaths(s1.knowledge_id)).toEqual(['one.md']);
    // The refused upload was deleted: the hub leaves no garbage behind.
    expect((await admin.allFileIds()).length).toBe(filesBefore + 1);

    const s2 = await sync.sync(uid, 'to_openwebui');
    expect(s2.uploaded).toEqual([]);
    expect(s2.failed).toEqual([expect.objectContaining({ path: 'two.md', reason: 'duplicate_content' })]);
    expect((await admin.allFileIds()).length).toBe(filesBefore + 1);
    expect((await readState()).failures['two.md']).toMatchObject({ reason: 'duplicate_content', attempts: 1 });
    expect((await sync.status(uid)).files.find((f) => f.path === 'two.md')).toMatchObject({
      state: 'failed',
      reason: 'duplicate_content',
    });

    // A changed file is tried again at once.
    await putFile(store, uid, 'two.md', 'now different words\n');
    const s3 = await sync.sync(uid, 'to_openwebui');
    expect(s3.uploaded).toEqual(['two.md']);
    expect((await readState()).failures['two.md']).toBeUndefined();
  });

  it('KB: processing failure and unsupported type are recorded per file, never retried in a loop', async (ctx) => {
    live(ctx);
    const { uid, store, sync, admin, kbPaths } = await setup();
    await putFile(store, uid, 'broken.pdf', Buffer.from('this is not a pdf at all, only bytes'));
    await putFile(store, uid, 'empty.md', '');
    await putFile(store, uid, 'image.bin', Buffer.from([0, 1, 2, 3]));
    await putFile(store, uid, 'ok.md', 'fine text\n');
    const filesBefore = (await admin.allFileIds()).length;
    const s1 = await sync.sync(uid, 'to_openwebui');
    expect(s1.uploaded).toEqual(['ok.md']);
    const failed = Object.fromEntries(s1.failed.map((f) => [f.path, f.reason]));
    // 0.12.4 says why it refuses an empty upload; 0.6.30's storage refuses it with a bare
    // "Error uploading file", recorded as an error (with the same backoff).
    const emptyRefusal = versionAtLeast(target!.version, '0.12.0') ? 'processing_failed' : 'error';
    expect(failed).toEqual({ 'broken.pdf': 'processing_failed', 'empty.md': emptyRefusal });
    expect(s1.skipped).toContainEqual({ path: 'image.bin', reason: 'unsupported_type' });
    expect(await kbPaths(s1.knowledge_id)).toEqual(['ok.md']);
    expect((await admin.allFileIds()).length).toBe(filesBefore + 1);

    const s2 = await sync.sync(uid, 'to_openwebui');
    expect(s2.uploaded).toEqual([]);
    expect((await admin.allFileIds()).length).toBe(filesBefore + 1);
    const status = await sync.status(uid);
    expect(status.files.map((f) => [f.path, f.state, f.reason])).toEqual([
      ['broken.pdf', 'failed', 'processing_failed'],
      ['empty.md', 'failed', emptyRefusal],
      ['image.bin', 'ignored', 'unsupported_type'],
      ['ok.md', 'synced', undefined],
    ]);
  });

  it('KB: file added through the web UI comes into the workspace and is never deleted for being unknown', async (ctx) => {
    live(ctx);
    const { uid, store, sync, web, kbPaths, readState } = await setup();
    await putFile(store, uid, 'mine.md', 'workspace file\n');
    const s1 = await sync.sync(uid);
    const fileId = await web.upload('from-the-web.md', 'uploaded by the student in the browser\n');
    expect(await web.waitProcessed(fileId)).toBe('completed');
    await web.addToKnowledge(s1.knowledge_id, fileId);

    // to_openwebui does not bring it in, and does not delete it either.
    const s2 = await sync.sync(uid, 'to_openwebui');
    expect(s2.deleted_in_openwebui).toEqual([]);
    expect(await kbPaths(s1.knowledge_id)).toEqual(['from-the-web.md', 'mine.md']);
    expect(await store.stat(uid, 'from-the-web.md')).toBeUndefined();

    const s3 = await sync.sync(uid, 'bidirectional');
    expect(s3.downloaded).toEqual(['from-the-web.md']);
    expect(await readFile(join(store.workspaceDir(uid), 'from-the-web.md'), 'utf8')).toBe('uploaded by the student in the browser\n');
    expect((await readState()).files['from-the-web.md']).toMatchObject({ source: 'openwebui', openwebui_file_id: fileId });
    // The sync's own write is marked so it does not trigger another round.
    expect(store.changes.find((c) => c.change.path === 'from-the-web.md')?.change.source).toBe('openwebui');

    // Edited in the workspace afterwards: the KB gets the new version.
    await putFile(store, uid, 'from-the-web.md', 'edited by the agent\n');
    const s4 = await sync.sync(uid);
    expect(s4.uploaded).toEqual(['from-the-web.md']);
    expect(await kbPaths(s1.knowledge_id)).toEqual(['from-the-web.md', 'mine.md']);
  });

  it('a file the user puts into a KB folder through the web UI lands in that workspace folder', async (ctx) => {
    live(ctx);
    if (!versionAtLeast(target!.version, '0.9.6')) ctx.skip('KB folders came with 0.9.6');
    const { uid, store, sync, web } = await setup();
    await putFile(store, uid, 'class/intro.md', 'intro to the class\n');
    const s1 = await sync.sync(uid);
    const classDir = await web.createDirectory(s1.knowledge_id, 'week 1');
    const fid = await web.upload('worksheet.md', 'a worksheet the teacher shared\n');
    expect(await web.waitProcessed(fid)).toBe('completed');
    await web.addToKnowledge(s1.knowledge_id, fid, classDir);
    const s2 = await sync.sync(uid);
    expect(s2.downloaded).toEqual(['week 1/worksheet.md']);
    expect(await readFile(join(store.workspaceDir(uid), 'week 1', 'worksheet.md'), 'utf8')).toBe('a worksheet the teacher shared\n');
  });

  it('KB: file removed through the web UI leaves the workspace only if unchanged since the base', async (ctx) => {
    live(ctx);
    const { uid, store, sync, web, kbPaths, readState } = await setup();
    await putFile(store, uid, 'gone.md', 'the student removes this in the web UI\n');
    await putFile(store, uid, 'edited.md', 'removed in the web UI but edited here\n');
    await putFile(store, uid, 'stay.md', 'stays\n');
    const s1 = await sync.sync(uid);
    const st = await readState();
    await web.removeFromKnowledge(s1.knowledge_id, st.files['gone.md']!.openwebui_file_id);
    await web.removeFromKnowledge(s1.knowledge_id, st.files['edited.md']!.openwebui_file_id);
    await putFile(store, uid, 'edited.md', 'edited after the last sync\n');

    const s2 = await sync.sync(uid);
    expect(s2.deleted_in_workspace).toEqual(['gone.md']);
    expect(await store.stat(uid, 'gone.md')).toBeUndefined();
    // A change beats a delete: the edited file stays and goes back up.
    expect(s2.uploaded).toEqual(['edited.md']);
    expect(await kbPaths(s1.knowledge_id)).toEqual(['edited.md', 'stay.md']);
    // No version is lost: the removed content is kept by the store.
    const versions = await readFile(join(store.workspaceDir(uid), '..', 'versions'), 'utf8').catch((e: NodeJS.ErrnoException) => e.code);
    expect(versions).toBe('EISDIR');
  });

  it('KB: deleted by a user -> recreated and re-filled, nothing deleted from the workspace', async (ctx) => {
    live(ctx);
    const { uid, store, sync, web, kbPaths } = await setup();
    await putFile(store, uid, 'x.md', 'ex\n');
    await putFile(store, uid, 'dir/y.md', 'why\n');
    const s1 = await sync.sync(uid);
    await web.deleteKnowledge(s1.knowledge_id);

    const s2 = await sync.sync(uid);
    expect(s2.knowledge_recreated).toBe(true);
    expect(s2.knowledge_id).not.toBe(s1.knowledge_id);
    expect(s2.deleted_in_workspace).toEqual([]);
    expect(s2.uploaded.sort()).toEqual(['dir/y.md', 'x.md']);
    expect(await kbPaths(s2.knowledge_id)).toEqual(['dir/y.md', 'x.md']);
    expect((await store.list(uid)).files.map((f) => f.path).sort()).toEqual(['dir/y.md', 'x.md']);
    expect(await web.status(`api/v1/knowledge/${s2.knowledge_id}`)).toBe(200);
  });

  it('conflict: a web-UI upload under a name the workspace already uses differently keeps both', async (ctx) => {
    live(ctx);
    const { uid, store, sync, web, kbPaths, readState } = await setup();
    const s1 = await sync.sync(uid);
    await putFile(store, uid, 'plan.md', 'the workspace plan\n');
    const fileId = await web.upload('plan.md', 'the browser plan\n');
    expect(await web.waitProcessed(fileId)).toBe('completed');
    await web.addToKnowledge(s1.knowledge_id, fileId);

    const s2 = await sync.sync(uid);
    expect(s2.conflicts).toHaveLength(1);
    const copy = s2.conflicts[0]!.copy;
    expect(copy).toMatch(/^plan \(conflict openwebui \d{4}-\d{2}-\d{2} \d{6}\)\.md$/);
    expect(await readFile(join(store.workspaceDir(uid), 'plan.md'), 'utf8')).toBe('the workspace plan\n');
    expect(await readFile(join(store.workspaceDir(uid), copy), 'utf8')).toBe('the browser plan\n');
    // The browser's file now stands for the copy; the workspace version went up under plan.md.
    const st = await readState();
    expect(st.files[copy]?.openwebui_file_id).toBe(fileId);
    expect(st.files['plan.md']?.hash).toBe(hashBytes('the workspace plan\n'));
    expect(await kbPaths(s1.knowledge_id)).toEqual(['plan.md', 'plan.md']);
    const s3 = await sync.sync(uid);
    expect([...s3.uploaded, ...s3.downloaded, ...s3.conflicts]).toEqual([]);
  });

  it('KB: only what belongs in a KB: node_modules/ and .git/ never reach it, .youlabignore rules apply, a file the hub uploaded and is now ignored leaves it (never the workspace)', async (ctx) => {
    live(ctx);
    const { uid, store, sync, web, admin, kbPaths, readState } = await setup({ maxFileBytes: 4096 });
    const ws = store.workspaceDir(uid);
    await putFile(store, uid, 'notes.md', 'Notes about the okapi.\n');
    await putFile(store, uid, 'drafts/plan.md', 'A first plan, uploaded before any rule.\n');
    await putFile(store, uid, 'node_modules/left-pad/README.md', '# left-pad\nPads strings on the left.\n');
    await putFile(store, uid, 'node_modules/left-pad/index.js', 'module.exports = (s) => s;\n');
    await putFile(store, uid, '.git/description.md', 'Unnamed repository; edit this file to name it.\n');
    await putFile(store, uid, '.git/hooks/post-update.sh', '#!/bin/sh\nexec git update-server-info\n');
    await putFile(store, uid, 'package-lock.json', '{"lockfileVersion": 3}\n');
    await putFile(store, uid, 'big.md', `${'a long line of text. '.repeat(250)}\n`);
    const s1 = await sync.sync(uid);
    expect(s1.uploaded.sort()).toEqual(['drafts/plan.md', 'notes.md']);
    const kbId = s1.knowledge_id;
    const planId = (await readState()).files['drafts/plan.md']!.openwebui_file_id;
    // A web upload the coming rule will cover: adopted now, so its base says the user put it there.
    const webId = await web.upload('idea.draft.md', 'An idea typed into the browser.\n');
    expect(await web.waitProcessed(webId)).toBe('completed');
    await web.addToKnowledge(kbId, webId);
    expect((await sync.sync(uid)).downloaded).toEqual(['idea.draft.md']);

    await putFile(store, uid, '.youlabignore', '# not for the KB\ndrafts/\n*.draft.md\n');
    const s2 = await sync.sync(uid);
    // The hub's own upload leaves the KB, and Open WebUI (the file is deleted, not only unlinked)...
    expect(s2.deleted_in_openwebui).toEqual(['drafts/plan.md']);
    expect(await admin.allFileIds()).not.toContain(planId);
    // ...the web upload stays in the KB, reported; the workspace keeps both files.
    expect(s2.skipped).toContainEqual({ path: 'idea.draft.md', reason: 'ignored (.youlabignore: *.draft.md): the KB file is left alone' });
    expect(await kbPaths(kbId)).toEqual(['idea.draft.md', 'notes.md']);
    expect(await readFile(join(ws, 'drafts/plan.md'), 'utf8')).toBe('A first plan, uploaded before any rule.\n');
    expect(await readFile(join(ws, 'idea.draft.md'), 'utf8')).toBe('An idea typed into the browser.\n');
    const st = await readState();
    expect(st.files['drafts/plan.md']).toBeUndefined();
    expect(st.files['idea.draft.md']).toMatchObject({ source: 'openwebui', openwebui_file_id: webId });

    // Every workspace file is in the status; the excluded ones as ignored, with the rule.
    const status = (await sync.status(uid)).files.map((f) => [f.path, f.state, f.rule]);
    expect(status).toEqual([
      ['.git/description.md', 'ignored', 'default: .git/'],
      ['.git/hooks/post-update.sh', 'ignored', 'default: .git/'],
      ['.youlabignore', 'ignored', 'default: .youlabignore'],
      ['big.md', 'ignored', 'too large: over 4096 bytes'],
      ['drafts/plan.md', 'ignored', '.youlabignore: drafts/'],
      ['idea.draft.md', 'ignored', '.youlabignore: *.draft.md'],
      ['node_modules/left-pad/index.js', 'ignored', 'default: node_modules/'],
      ['node_modules/left-pad/README.md', 'ignored', 'default: node_modules/'],
      ['notes.md', 'synced', undefined],
      ['package-lock.json', 'ignored', 'default: package-lock.json'],
    ]);

    // Quiet: an edit of an excluded file goes nowhere, nothing else moves.
    await putFile(store, uid, 'drafts/plan.md', 'A second plan, still not for the KB.\n');
    const s3 = await sync.sync(uid);
    expect([...s3.uploaded, ...s3.downloaded, ...s3.deleted_in_openwebui, ...s3.deleted_in_workspace]).toEqual([]);
    expect(await kbPaths(kbId)).toEqual(['idea.draft.md', 'notes.md']);

    // The rule taken away: the folder goes up again; the web upload is synced as before.
    await putFile(store, uid, '.youlabignore', '# nothing left out\n');
    const s4 = await sync.sync(uid);
    expect(s4.uploaded).toEqual(['drafts/plan.md']);
    expect(await kbPaths(kbId)).toEqual(['drafts/plan.md', 'idea.draft.md', 'notes.md']);
    expect((await readState()).files['idea.draft.md']?.openwebui_file_id).toBe(webId);
  });

  it('retrieval: a query against the user KB finds text from a synced file', async (ctx) => {
    live(ctx);
    const { uid, store, sync, web } = await setup();
    await putFile(store, uid, 'zoo/animals.md', '# Animals\n\nThe okapi is a shy forest giraffe that lives in the Congo.\n');
    await putFile(store, uid, 'kitchen/recipes.md', '# Recipes\n\nKnead the dough, let it rise, bake the bread for forty minutes.\n');
    const s = await sync.sync(uid);
    expect(s.uploaded.sort()).toEqual(['kitchen/recipes.md', 'zoo/animals.md']);
    const r = await web.query(s.knowledge_id, 'okapi forest giraffe');
    const docs = r.documents.flat();
    expect(docs.join('\n')).toContain('okapi is a shy forest giraffe');
    // 0.12.4 copies the upload's metadata (the hub's full path) into each chunk; 0.6.30 keeps the name.
    const top = r.metadatas.flat()[0] as { path?: string; name?: string };
    if (top.path === undefined) expect(top.name).toBe('animals.md');
    else expect(top.path).toBe('zoo/animals.md');
  });

  it('through a real hub: added, edited and deleted workspace files reach the KB within 10 s; a web-UI upload reaches the workspace', async (ctx) => {
    live(ctx);
    const t = target!;
    const user = await t.createUser('HubUser');
    const hub = await startHubWithOpenWebUI(t);
    try {
      const key = await hub.createKey(user.id);
      const base = `${hub.url}/users/${user.id}/workspace`;
      const etagOf = async (p: string) => (await fetch(`${base}/files/${p}`, { method: 'HEAD', headers: auth(key) })).headers.get('etag');
      const put = async (p: string, body: string) => {
        const etag = await etagOf(p);
        const r = await fetch(`${base}/files/${p}`, {
          method: 'PUT',
          headers: { ...auth(key), ...(etag ? { 'if-match': etag } : { 'if-none-match': '*' }) },
          body,
        });
        expect(r.status).toBe(200);
      };
      const within = (what: string, probe: () => Promise<boolean | undefined>) => waitFor(probe, 10_000, what);

      await put('lessons/week1.md', 'Photosynthesis turns light into sugar.\n');
      await within('added file in the KB', async () => (await kbOf(t, user.id))?.paths.includes('lessons/week1.md'));
      const before = (await kbOf(t, user.id))!;

      await put('lessons/week1.md', 'Photosynthesis turns light, water and CO2 into sugar.\n');
      await within('edit in the KB', async () => {
        const kb = await kbOf(t, user.id);
        return kb?.paths.includes('lessons/week1.md') && !kb.ids.some((i) => before.ids.includes(i));
      });

      await put('lessons/week2.md', 'Cell division: mitosis and meiosis.\n');
      await within('second file in the KB', async () => (await kbOf(t, user.id))?.paths.includes('lessons/week2.md'));
      const r = await fetch(`${base}/files/lessons/week2.md`, {
        method: 'DELETE',
        headers: { ...auth(key), 'if-match': (await etagOf('lessons/week2.md'))! },
      });
      expect(r.status).toBe(204);
      await within('delete in the KB', async () => !(await kbOf(t, user.id))?.paths.includes('lessons/week2.md'));

      // Uploaded through Open WebUI's API as the user -> appears in the workspace.
      const web = asUser(t, user.token);
      const kb = (await kbOf(t, user.id))!;
      const fid = await web.upload('homework.md', 'My homework about chloroplasts.\n');
      expect(await web.waitProcessed(fid)).toBe('completed');
      await web.addToKnowledge(kb.id, fid);
      const sync = await fetch(`${base}/sync`, {
        method: 'POST',
        headers: { ...auth(key), 'content-type': 'application/json' },
        body: JSON.stringify({ direction: 'from_openwebui' }),
      });
      expect(sync.status).toBe(200);
      expect(await readFile(join(hub.dataDir, user.id, 'workspace', 'homework.md'), 'utf8')).toBe('My homework about chloroplasts.\n');

      // And the synced text is retrievable by the user.
      const q = await web.query(kb.id, 'photosynthesis light water sugar');
      expect(q.documents.flat().join('\n')).toContain('Photosynthesis turns light, water and CO2 into sugar.');
    } finally {
      await hub.stop();
    }
  });
});
